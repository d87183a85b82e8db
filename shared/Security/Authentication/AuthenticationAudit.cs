using Microsoft.Extensions.Logging;

namespace EdgeStream.Security.Authentication;

/// <summary>
/// The record of authentication outcomes: counters for <c>/v1/status</c> and <c>/metrics</c>, and a
/// log line per failure (who, from where, which mechanism; never a password or proof) at most once a
/// second, the next line saying how many were not written. Uplinks refused because the node is on
/// the deny list are audited here too: a revoked node's credentials are refused like a wrong password.
/// </summary>
public sealed partial class AuthenticationAudit
{
    private const int MaxLoggedNameLength = 64;
    private readonly ILogger _logger;
    private readonly LogThrottle _failureLog = new(TimeSpan.FromSeconds(1));
    private readonly LogThrottle _revokedLog = new(TimeSpan.FromSeconds(1));
    private long _kafkaFailures;
    private long _mqttFailures;
    private long _kafkaSuccesses;
    private long _mqttSuccesses;
    private long _uplinkRevoked;

    public AuthenticationAudit(ILogger logger) => _logger = logger;

    public long KafkaFailures => Interlocked.Read(ref _kafkaFailures);
    public long MqttFailures => Interlocked.Read(ref _mqttFailures);
    public long KafkaSuccesses => Interlocked.Read(ref _kafkaSuccesses);
    public long MqttSuccesses => Interlocked.Read(ref _mqttSuccesses);
    /// <summary>Uplink streams and frames refused because their node (or the origin relayed) is revoked.</summary>
    public long UplinkRevokedRefusals => Interlocked.Read(ref _uplinkRevoked);

    public void Failed(AuthenticationProtocol protocol, string mechanism, string? user, string? remote)
    {
        Interlocked.Increment(ref protocol == AuthenticationProtocol.Kafka ? ref _kafkaFailures : ref _mqttFailures);
        if (_failureLog.TryEnter(out var suppressed))
            Log.Failed(_logger, Name(protocol), Printable(user), remote ?? "?", mechanism, suppressed);
    }

    public void Succeeded(AuthenticationProtocol protocol, string mechanism, string user, string? remote)
    {
        Interlocked.Increment(ref protocol == AuthenticationProtocol.Kafka ? ref _kafkaSuccesses : ref _mqttSuccesses);
        Log.Succeeded(_logger, Name(protocol), Printable(user), remote ?? "?", mechanism);
    }

    /// <summary>
    /// An uplink of <paramref name="child"/> from <paramref name="remote"/> refused because
    /// <paramref name="nodeId"/> (the child itself, or an origin it relays) is revoked.
    /// </summary>
    public void Revoked(string nodeId, string child, string operation, string? remote)
    {
        Interlocked.Increment(ref _uplinkRevoked);
        if (_revokedLog.TryEnter(out var suppressed))
            Log.Revoked(_logger, Printable(nodeId), Printable(child), remote ?? "?", operation, suppressed);
    }

    private static string Name(AuthenticationProtocol protocol) => protocol == AuthenticationProtocol.Kafka ? "Kafka" : "MQTT";

    /// <summary>A name from the network (a claimed user, a topic): shortened, control characters shown as '?', so a log line stays one line.</summary>
    internal static string Printable(string? user)
    {
        if (string.IsNullOrEmpty(user)) return "-";
        var s = user.Length > MaxLoggedNameLength ? user[..MaxLoggedNameLength] + "…" : user;
        return string.Create(s.Length, s, static (span, v) =>
        {
            for (var i = 0; i < v.Length; i++) span[i] = char.IsControl(v[i]) ? '?' : v[i];
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3000, Level = LogLevel.Warning, Message = "{Protocol} authentication failed for user '{User}' from {Remote} ({Mechanism}); {Suppressed} similar failures not logged")]
        public static partial void Failed(ILogger logger, string protocol, string user, string remote, string mechanism, long suppressed);

        [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "{Protocol} client {Remote} authenticated as User:{User} ({Mechanism})")]
        public static partial void Succeeded(ILogger logger, string protocol, string user, string remote, string mechanism);

        [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Uplink refused: node '{Node}' is revoked (child {Child} from {Remote}, {Operation}); {Suppressed} similar refusals not logged")]
        public static partial void Revoked(ILogger logger, string node, string child, string remote, string operation, long suppressed);
    }
}

/// <summary>The front-end a client authenticated (or failed to) on.</summary>
public enum AuthenticationProtocol { Kafka, Mqtt }
