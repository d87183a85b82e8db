using System.Collections.Concurrent;
using EdgeStream.Mqtt.Limits;
using EdgeStream.Mqtt.Persistence;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt;

/// <summary>
/// Attaches the log bridge to MQTTnet's broker. MQTTnet awaits the InterceptingPublish handler
/// before it queues the PUBACK (QoS 1) or PUBREC (QoS 2) with the handler's reason code, so
/// awaiting the durable append here is what makes the acknowledgement mean "on disk".
/// </summary>
public sealed class MqttBrokerService : IHostedService
{
    // Session item: the client's protocol version, recorded when it connects.
    private const string ProtocolVersionItem = "edgestream.mqtt.version";
    // Session items: the packet id of the PUBLISH being handled, and PUBACK/PUBREC waiting for durability.
    private const string InboundPacketIdItem = "edgestream.mqtt.inbound-id";
    private const string PendingAcksItem = "edgestream.mqtt.pending-acks";

    private readonly MqttServer _server;
    private readonly MqttLogBridge _bridge;
    private readonly MqttWillDelay _willDelay;
    private readonly ILogger _logger;

    public MqttBrokerService(MqttServer server, MqttLogBridge bridge, MqttWillDelay willDelay, ILogger<MqttBrokerService> logger)
    {
        _server = server;
        _bridge = bridge;
        _willDelay = willDelay;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _server.ValidatingConnectionAsync += OnValidatingConnection;
        _server.InterceptingPublishAsync += OnInterceptingPublish;
        _server.InterceptingInboundPacketAsync += OnInboundPacket;
        _server.InterceptingOutboundPacketAsync += OnOutboundPacket;
        foreach (var rule in _bridge.Options.Map.Rules) MqttLog.BridgeStarted(_logger, rule.Filter, rule.LogTopic);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server.InterceptingPublishAsync -= OnInterceptingPublish;
        _server.InterceptingInboundPacketAsync -= OnInboundPacket;
        _server.InterceptingOutboundPacketAsync -= OnOutboundPacket;
        _server.ValidatingConnectionAsync -= OnValidatingConnection;
        return Task.CompletedTask;
    }

    private static Task OnValidatingConnection(ValidatingConnectionEventArgs e)
    {
        e.SessionItems[ProtocolVersionItem] = e.ProtocolVersion;
        if (e.ClientId == MqttLogFollower.SenderClientId)
        {
            // Reserved: messages from this id are Kafka records going out, never logged again.
            e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            return Task.CompletedTask;
        }
        // MQTT 3.1.1 §3.1.3.1 and MQTT 5 §3.1.3.1: a client may send an empty identifier with a clean
        // session and the server assigns one (mosquitto_pub/sub do). A persistent session needs an id.
        if (string.IsNullOrEmpty(e.ClientId))
        {
            if (e.CleanSession != false) e.AssignedClientIdentifier = "edgestream-" + Guid.NewGuid().ToString("N");
            else e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
        }
        return Task.CompletedTask;
    }

    private async Task OnInterceptingPublish(InterceptingPublishEventArgs e)
    {
        var message = e.ApplicationMessage;
        if (message is null) return;
        // A record of the log going out to subscribers (Kafka → MQTT): it is in the log already.
        if (e.ClientId == MqttLogFollower.SenderClientId) return;
        // The PUBLISH packet this message came in (its packet id; 0 for QoS 0), or none: a will that
        // MQTTnet publishes for a departed client. Taken, so a later will never sees a stale one.
        var inbound = e.SessionItems[InboundPacketIdItem];
        e.SessionItems.Remove(InboundPacketIdItem);
        // Refused before this handler (an ACL, see MqttAuthorization): nothing to log.
        if (!e.ProcessPublish) return;
        // A will with a delay: neither delivered nor logged now, but when its delay has passed.
        if (inbound is null && _willDelay.TryDefer(e)) return;
        // Its expiry counts from now (§3.3.2.3.3); see OnOutboundPacket.
        if (message.MessageExpiryInterval > 0) MqttMessageExpiry.Stamp(message);
        MqttMetrics.Received((int)message.QualityOfServiceLevel);
        if (!MqttTopicName.IsValid(message.Topic))
        {
            await MqttConnectionGuard.RefuseInvalidTopicAsync(_server, e, e.SessionItems[ProtocolVersionItem] is MqttProtocolVersion.V500, _logger).ConfigureAwait(false);
            return;
        }

        if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce)
        {
            // QoS 0 promises nothing: append without holding up the connection. The append is
            // started here, so messages keep their order in the partition.
            ValueTask<Persistence.LogPosition> append;
            try
            {
                append = _bridge.AppendAsync(message, CancellationToken.None);
            }
            catch (MqttBridgeException ex)
            {
                MqttLog.Qos0Dropped(_logger, message.Topic, ex.Message);
                MqttMetrics.Drop("qos0_append_failed");
                return;
            }
            if (!append.IsCompletedSuccessfully) _ = MqttAppendOutcome.ObserveQos0Async(append, message.Topic, _logger);
            return;
        }

        ValueTask<Persistence.LogPosition> pending;
        try
        {
            // Not the connection's token: once started, an append finishes (or fails) on its own.
            pending = _bridge.AppendAsync(message, CancellationToken.None);
        }
        catch (MqttBridgeException ex)
        {
            RefuseQos(e, message, ex);
            return;
        }

        if (!pending.IsCompleted && inbound is ushort packetId && packetId != 0)
        {
            // Pipelined: MQTTnet reads the connection's next packet only after this handler returns,
            // so waiting here for the fsync would allow one message per group commit per client. The
            // append is started (its order in the partition is fixed) and the PUBACK/PUBREC, which
            // MQTTnet queues next, waits for durability in OnOutboundPacket instead.
            var append = pending.AsTask();
            Persistence.MqttLogPositions.Track(message, append);
            PendingAcks(e.SessionItems)[packetId] = append;
            return;
        }

        try
        {
            var position = await pending.ConfigureAwait(false);
            // Persistent sessions count their undelivered messages in log positions (see MqttSessionTracker).
            Persistence.MqttLogPositions.Set(message, position);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            RefuseQos(e, message, ex);
        }
    }

    private void RefuseQos(InterceptingPublishEventArgs e, MqttApplicationMessage message, Exception ex)
    {
        MqttLog.PublishRefused(_logger, e.ClientId, message.Topic, (int)message.QualityOfServiceLevel, ex.Message);
        MqttMetrics.Drop("refused");
        var (code, reason) = MqttBridgeException.ReasonFor(ex);
        Refuse(e, code, reason);
    }

    private static ConcurrentDictionary<ushort, Task<Persistence.LogPosition>> PendingAcks(System.Collections.IDictionary items)
    {
        if (items[PendingAcksItem] is ConcurrentDictionary<ushort, Task<Persistence.LogPosition>> existing) return existing;
        var created = new ConcurrentDictionary<ushort, Task<Persistence.LogPosition>>();
        items[PendingAcksItem] = created;
        return created;
    }

    private static Task OnInboundPacket(InterceptingPacketEventArgs e)
    {
        // The packet identifier of the PUBLISH being handled: InterceptingPublish does not carry it, and
        // MQTTnet handles one inbound packet of a connection at a time, so this is that PUBLISH's id.
        if (e.Packet is MqttPublishPacket publish)
            e.SessionItems[InboundPacketIdItem] = publish.PacketIdentifier; // 0 under QoS 0
        return Task.CompletedTask;
    }

    private Task OnOutboundPacket(InterceptingPacketEventArgs e)
    {
        ushort id;
        switch (e.Packet)
        {
            case MqttPubAckPacket ack: id = ack.PacketIdentifier; break;
            case MqttPubRecPacket rec: id = rec.PacketIdentifier; break;
            case MqttPublishPacket { MessageExpiryInterval: > 0 } publish:
                // MQTT 5 §3.3.2.3.3: an expired message is not sent; any other carries the time it has left.
                // Also for MQTT 3.1.1 subscribers (whose PUBLISH cannot carry the interval).
                if (!MqttMessageExpiry.Refresh(publish, MqttMessageExpiry.NowMs))
                {
                    e.ProcessPacket = false;
                    MqttMetrics.Drop("expired");
                }
                else MqttMetrics.Sent();
                return Task.CompletedTask;
            case MqttPublishPacket:
                MqttMetrics.Sent();
                return Task.CompletedTask;
            default: return Task.CompletedTask;
        }
        if (e.SessionItems[PendingAcksItem] is not ConcurrentDictionary<ushort, Task<Persistence.LogPosition>> pending ||
            !pending.TryRemove(id, out var append))
            return Task.CompletedTask;
        return append.IsCompletedSuccessfully ? Task.CompletedTask : AwaitDurableAsync(e, append);
    }

    /// <summary>Holds the acknowledgement (and the connection's later outbound packets) until the append is durable.</summary>
    private async Task AwaitDurableAsync(InterceptingPacketEventArgs e, Task<Persistence.LogPosition> append)
    {
        try
        {
            await append.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The write failed after the message was accepted for dispatch: the publisher must not
            // hear success. MQTT 5 gets the reason; MQTT 3.1.1 has no negative ack, so no ack and the
            // connection closes (the client sends the message again after reconnecting).
            MqttLog.PublishRefused(_logger, e.ClientId, "(pipelined)", -1, ex.Message);
            if (e.SessionItems[ProtocolVersionItem] is MqttProtocolVersion.V500) MqttAppendOutcome.Refuse(e.Packet, ex);
            else
            {
                e.ProcessPacket = false;
                _ = _server.DisconnectClientAsync(e.ClientId, new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.UnspecifiedError });
            }
        }
    }

    private static void Refuse(InterceptingPublishEventArgs e, MqttPubAckReasonCode code, string reason)
    {
        // Not kept, so not forwarded to subscribers either.
        e.ProcessPublish = false;
        var version = e.SessionItems[ProtocolVersionItem] is MqttProtocolVersion v ? v : MqttProtocolVersion.V311;
        if (version == MqttProtocolVersion.V500)
        {
            e.Response.ReasonCode = code;
            e.Response.ReasonString = reason;
        }
        else
        {
            // MQTT 3.1.x has no negative PUBACK/PUBREC: close the connection without acknowledging,
            // so the client keeps the message and sends it again after reconnecting.
            e.CloseConnection = true;
        }
    }
}
