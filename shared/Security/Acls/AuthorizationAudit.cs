using EdgeStream.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Security.Acls;

/// <summary>
/// The record of ACL denials: counters for <c>/v1/status</c>, and a log line per denial (who, from
/// where, what operation on which resource) at most once a second, the next line saying how many were not written.
/// </summary>
public sealed partial class AuthorizationAudit
{
    private readonly ILogger _logger;
    private readonly LogThrottle _denialLog = new(TimeSpan.FromSeconds(1));
    private long _kafkaDenials;
    private long _mqttDenials;

    public AuthorizationAudit(ILogger logger) => _logger = logger;

    public long KafkaDenials => Interlocked.Read(ref _kafkaDenials);
    public long MqttDenials => Interlocked.Read(ref _mqttDenials);

    public void Denied(AuthenticationProtocol protocol, string? principal, string? remote, AclOperation operation, AclResourceType type, string resource)
    {
        Interlocked.Increment(ref protocol == AuthenticationProtocol.Kafka ? ref _kafkaDenials : ref _mqttDenials);
        if (_denialLog.TryEnter(out var suppressed))
            Log.Denied(_logger, protocol == AuthenticationProtocol.Kafka ? "Kafka" : "MQTT", AuthenticationAudit.Printable(principal ?? AclAuthorizer.AnonymousPrincipal),
                remote ?? "?", operation.ToString(), type.ToString(), AuthenticationAudit.Printable(resource), suppressed);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "{Protocol} ACL denied {Principal} from {Remote}: {Operation} on {ResourceType} '{Resource}'; {Suppressed} similar denials not logged")]
        public static partial void Denied(ILogger logger, string protocol, string principal, string remote, string operation, string resourceType, string resource, long suppressed);
    }
}
