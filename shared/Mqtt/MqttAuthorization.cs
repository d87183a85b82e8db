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

    private readonly MqttServer _server;
    private readonly AclAuthorizer _authorizer;
    private readonly MqttTopicMap _map;

    public MqttAuthorization(MqttServer server, AclAuthorizer authorizer, MqttTopicMap map)
    {
        _server = server;
        _authorizer = authorizer;
        _map = map;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _server.ValidatingConnectionAsync += OnValidatingConnection;
        _server.InterceptingPublishAsync += OnInterceptingPublish;
        _server.InterceptingSubscriptionAsync += OnInterceptingSubscription;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server.InterceptingSubscriptionAsync -= OnInterceptingSubscription;
        _server.InterceptingPublishAsync -= OnInterceptingPublish;
        _server.ValidatingConnectionAsync -= OnValidatingConnection;
        return Task.CompletedTask;
    }

    private static Task OnValidatingConnection(ValidatingConnectionEventArgs e)
    {
        if (e.RemoteEndPoint is IPEndPoint ip)
            e.SessionItems[HostItem] = (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString();
        e.SessionItems[VersionItem] = e.ProtocolVersion;
        return Task.CompletedTask;
    }

    private Task OnInterceptingPublish(InterceptingPublishEventArgs e)
    {
        // Records of the log going out to subscribers are the bridge's own, not a client's.
        if (e.ApplicationMessage is not { } message || e.ClientId == MqttLogFollower.SenderClientId) return Task.CompletedTask;
        var topic = _map.Resolve(message.Topic);
        if (Allowed(e.SessionItems, AclOperation.Write, topic)) return Task.CompletedTask;
        Denied(e.SessionItems, AclOperation.Write, topic);
        // Neither logged (MqttBrokerService skips it) nor delivered.
        e.ProcessPublish = false;
        if (e.SessionItems[VersionItem] is MqttProtocolVersion.V500)
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            e.Response.ReasonString = $"Write on topic '{topic}' is needed";
        }
        return Task.CompletedTask;
    }

    private Task OnInterceptingSubscription(InterceptingSubscriptionEventArgs e)
    {
        foreach (var topic in _map.LogTopicsFor(e.TopicFilter.Topic))
        {
            if (Allowed(e.SessionItems, AclOperation.Read, topic)) continue;
            Denied(e.SessionItems, AclOperation.Read, topic);
            // MQTTnet sends 0x87 to MQTT 5 clients and 0x80 (failure) to 3.1.1 ones.
            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            e.ReasonString = $"Read on topic '{topic}' is needed";
            return Task.CompletedTask;
        }
        return Task.CompletedTask;
    }

    private bool Allowed(System.Collections.IDictionary items, AclOperation operation, string topic) =>
        _authorizer.Authorize(items[MqttAuthentication.PrincipalItem] as string, items[HostItem] as string, operation, AclResourceType.Topic, topic);

    private void Denied(System.Collections.IDictionary items, AclOperation operation, string topic) =>
        _authorizer.Audit.Denied(AuthenticationProtocol.Mqtt, items[MqttAuthentication.PrincipalItem] as string, items[HostItem] as string, operation, AclResourceType.Topic, topic);
}
