using System.Net;
using EdgeStream.Security.Acls;
using EdgeStream.Security.Authentication;
using Microsoft.Extensions.Hosting;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeStream.Mqtt;

/// <summary>
/// <c>--authorizer on</c> for MQTT: the ACLs Kafka enforces, on the log topic an MQTT topic maps to
/// (<c>--mqtt-map</c>). A PUBLISH needs Write on the log topic the bridge would append it to; a
/// SUBSCRIBE needs Read on every log topic whose messages the filter could receive. The principal is
/// the user of <c>--mqtt-auth required</c>, else anonymous (<c>User:ANONYMOUS</c>). Refusals: MQTT 5
/// PUBACK/SUBACK 0x87 Not authorized; 3.1.1 SUBACK 0x80, and a refused PUBLISH is acknowledged and
/// dropped (as mosquitto does), so a QoS 1 client does not resend it forever.
/// </summary>
public sealed class MqttAuthorization : IHostedService
{
    // Session items: the client's address (ACL host) and protocol version, recorded when it connects.
    private const string HostItem = "edgestream.mqtt.acl-host";
    private const string VersionItem = "edgestream.mqtt.acl-version";

    private readonly MqttServer? _server;
    private readonly AclAuthorizer _authorizer;
    private readonly MqttTopicMap _map;

    public MqttAuthorization(MqttServer? server, AclAuthorizer authorizer, MqttTopicMap map)
    {
        _server = server;
        _authorizer = authorizer;
        _map = map;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Null for the own broker core: it calls MayPublish and MaySubscribe itself.
        if (_server is null) return Task.CompletedTask;
        _server.ValidatingConnectionAsync += OnValidatingConnection;
        _server.InterceptingPublishAsync += OnInterceptingPublish;
        _server.InterceptingSubscriptionAsync += OnInterceptingSubscription;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null) return Task.CompletedTask;
        _server.InterceptingSubscriptionAsync -= OnInterceptingSubscription;
        _server.InterceptingPublishAsync -= OnInterceptingPublish;
        _server.ValidatingConnectionAsync -= OnValidatingConnection;
        return Task.CompletedTask;
    }

    private static Task OnValidatingConnection(ValidatingConnectionEventArgs e)
    {
        if (HostOf(e.RemoteEndPoint) is { } host) e.SessionItems[HostItem] = host;
        e.SessionItems[VersionItem] = e.ProtocolVersion;
        return Task.CompletedTask;
    }

    private Task OnInterceptingPublish(InterceptingPublishEventArgs e)
    {
        // Records of the log going out to subscribers are the bridge's own, not a client's.
        if (e.ApplicationMessage is not { } message || e.ClientId == MqttLogFollower.SenderClientId) return Task.CompletedTask;
        if (MayPublish(e.SessionItems[MqttAuthentication.PrincipalItem] as string, e.SessionItems[HostItem] as string, message.Topic, out var reason))
            return Task.CompletedTask;
        // Neither logged (MqttBrokerService skips it) nor delivered.
        e.ProcessPublish = false;
        if (e.SessionItems[VersionItem] is MqttProtocolVersion.V500)
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            e.Response.ReasonString = reason;
        }
        return Task.CompletedTask;
    }

    private Task OnInterceptingSubscription(InterceptingSubscriptionEventArgs e)
    {
        if (MaySubscribe(e.SessionItems[MqttAuthentication.PrincipalItem] as string, e.SessionItems[HostItem] as string, e.TopicFilter.Topic, out var reason))
            return Task.CompletedTask;
        // MQTTnet sends 0x87 to MQTT 5 clients and 0x80 (failure) to 3.1.1 ones.
        e.ProcessSubscription = false;
        e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
        e.ReasonString = reason;
        return Task.CompletedTask;
    }

    /// <summary>The ACL host of a client address: IPv4-mapped addresses as IPv4.</summary>
    public static string? HostOf(EndPoint? remote) =>
        remote is IPEndPoint ip ? (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString() : null;

    /// <summary>Whether <paramref name="principal"/> may PUBLISH to <paramref name="mqttTopic"/> (Write on its log topic); else the reason string.</summary>
    public bool MayPublish(string? principal, string? host, string mqttTopic, out string? reason)
    {
        var topic = _map.Resolve(mqttTopic);
        reason = null;
        if (_authorizer.Authorize(principal, host, AclOperation.Write, AclResourceType.Topic, topic)) return true;
        _authorizer.Audit.Denied(AuthenticationProtocol.Mqtt, principal, host, AclOperation.Write, AclResourceType.Topic, topic);
        reason = $"Write on topic '{topic}' is needed";
        return false;
    }

    /// <summary>Whether <paramref name="principal"/> may SUBSCRIBE to <paramref name="filter"/> (Read on every log topic it could receive from); else the reason string.</summary>
    public bool MaySubscribe(string? principal, string? host, string filter, out string? reason)
    {
        reason = null;
        foreach (var topic in _map.LogTopicsFor(filter))
        {
            if (_authorizer.Authorize(principal, host, AclOperation.Read, AclResourceType.Topic, topic)) continue;
            _authorizer.Audit.Denied(AuthenticationProtocol.Mqtt, principal, host, AclOperation.Read, AclResourceType.Topic, topic);
            reason = $"Read on topic '{topic}' is needed";
            return false;
        }
        return true;
    }
}
