using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt.Persistence;

/// <summary>Log messages of MQTT session and retained-message persistence; event ids 4300-4399.</summary>
internal static partial class MqttPersistenceLog
{
    [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "MQTT: {Count} persistent sessions loaded from meta.db")]
    public static partial void SessionsLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "MQTT: session {ClientId} restored: {Subscriptions} subscriptions, {Replayed} messages replayed from the log")]
    public static partial void SessionRestored(ILogger logger, string clientId, int subscriptions, int replayed);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Warning, Message = "MQTT: restoring session {ClientId} failed: {Reason}")]
    public static partial void RestoreFailed(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 4303, Level = LogLevel.Warning, Message = "MQTT: session checkpoint failed: {Reason}")]
    public static partial void CheckpointFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 4304, Level = LogLevel.Information, Message = "MQTT: session {ClientId} expired")]
    public static partial void SessionExpired(ILogger logger, string clientId);

    [LoggerMessage(EventId = 4305, Level = LogLevel.Information, Message = "MQTT: {Count} retained messages loaded from meta.db")]
    public static partial void RetainedLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 4306, Level = LogLevel.Warning, Message = "MQTT: retained message for '{Topic}' in meta.db is unreadable and was skipped: {Reason}")]
    public static partial void RetainedUnreadable(ILogger logger, string topic, string reason);
}
