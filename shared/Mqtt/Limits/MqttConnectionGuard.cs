using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeStream.Mqtt.Limits;

/// <summary>What the guard knows about one MQTT connection.</summary>
public sealed class MqttConnectionState
{
    internal int Admitted;

    public MqttConnectionState(EndPoint? remoteEndPoint) => RemoteEndPoint = remoteEndPoint;

    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The CONNECT's protocol level (3 = MQTT 3.1, 4 = 3.1.1, 5 = 5), 0 before it.</summary>
    public byte ProtocolLevel { get; internal set; }

    /// <summary>The client id once MQTTnet has accepted the connection (an assigned one included).</summary>
    public string? ClientId { get; internal set; }
}

/// <summary>
/// Enforces <see cref="MqttLimits"/> on the MQTT listener: a Kestrel connection middleware that
/// checks the inbound bytes before MQTTnet buffers them (<see cref="MqttGuardedReader"/>), and
/// handlers on MQTTnet's events for what only the broker knows (connections admitted, CONNACK
/// properties, subscriber queues overflowing). Each limit affects only the client crossing it.
/// </summary>
public sealed partial class MqttConnectionGuard : IHostedService
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly MqttServer _server;
    private readonly MqttLimits _limits;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<EndPoint, MqttConnectionState> _connections = new();
    private readonly LogThrottle _dropLog = new(LogInterval);
    private readonly LogThrottle _closeLog = new(TimeSpan.FromSeconds(1));
    private readonly LogThrottle _refuseLog = new(TimeSpan.FromSeconds(1));
    private int _admitted;
    private long _dropped;
    private long _closed;
    private long _refused;

    public MqttConnectionGuard(MqttServer server, MqttLimits limits, ILogger<MqttConnectionGuard> logger)
    {
        limits.Validate();
        _server = server;
        _limits = limits;
        _logger = logger;
    }

    public MqttLimits Limits => _limits;

    /// <summary>Connections MQTTnet accepted and that are still open.</summary>
    public int Connections => Volatile.Read(ref _admitted);

    /// <summary>Queued messages dropped for slow subscribers since start.</summary>
    public long DroppedMessages => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Messages waiting in subscribers' queues now, over every session (connected or not: a persistent
    /// session's queue fills while its client is away). Walks the sessions, so it is for scrapes, not hot paths.
    /// </summary>
    public long QueuedMessages()
    {
        long queued = 0;
        foreach (var session in _server.GetSessionsAsync().GetAwaiter().GetResult()) queued += session.PendingApplicationMessagesCount;
        return queued;
    }

    /// <summary>Connections closed for a framing or flow violation since start.</summary>
    public long ClosedConnections => Interlocked.Read(ref _closed);

    /// <summary>CONNECTs refused for the connection limit since start.</summary>
    public long RefusedConnections => Interlocked.Read(ref _refused);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _server.ValidatingConnectionAsync += OnValidatingConnection;
        _server.ClientConnectedAsync += OnClientConnected;
        _server.InterceptingOutboundPacketAsync += OnOutboundPacket;
        _server.QueuedApplicationMessageOverwrittenAsync += OnQueuedMessageOverwritten;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server.QueuedApplicationMessageOverwrittenAsync -= OnQueuedMessageOverwritten;
        _server.InterceptingOutboundPacketAsync -= OnOutboundPacket;
        _server.ClientConnectedAsync -= OnClientConnected;
        _server.ValidatingConnectionAsync -= OnValidatingConnection;
        return Task.CompletedTask;
    }

    /// <summary>The connection middleware: runs MQTTnet's handler (<paramref name="next"/>) over the guarded input.</summary>
    public async Task OnConnectionAsync(ConnectionContext context, ConnectionDelegate next)
    {
        var state = new MqttConnectionState(context.RemoteEndPoint);
        if (state.RemoteEndPoint is { } endPoint) _connections[endPoint] = state;
        var transport = context.Transport;
        var reader = new MqttGuardedReader(transport.Input, state, _limits.MaxPacketBytes, _limits.MaxInflight, OnViolationAsync);
        context.Transport = new MqttGuardedPipe(reader, transport.Output);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Transport = transport;
            if (state.RemoteEndPoint is { } ep) _connections.TryRemove(KeyValuePair.Create(ep, state));
            if (Interlocked.Exchange(ref state.Admitted, 0) == 1) Interlocked.Decrement(ref _admitted);
        }
    }

    private Task OnValidatingConnection(ValidatingConnectionEventArgs e)
    {
        if (e.ReasonCode != MqttConnectReasonCode.Success) return Task.CompletedTask;
        if (e.RemoteEndPoint is null || !_connections.TryGetValue(e.RemoteEndPoint, out var state)) return Task.CompletedTask;
        if (Interlocked.Increment(ref _admitted) > _limits.MaxConnections)
        {
            Interlocked.Decrement(ref _admitted);
            Interlocked.Increment(ref _refused);
            // MQTT 5 §3.2.2.2: 0x97 Quota exceeded. MQTT 3.1.1 §3.2.2.3 has no such code: 0x03 Server
            // unavailable is the closest (MQTTnet writes that for 0x88 under 3.1.1).
            e.ReasonCode = e.ProtocolVersion == MqttProtocolVersion.V500 ? MqttConnectReasonCode.QuotaExceeded : MqttConnectReasonCode.ServerUnavailable;
            e.ReasonString = "connection limit reached";
            if (_refuseLog.TryEnter(out var suppressed))
                Log.ConnectionRefused(_logger, e.ClientId, e.RemoteEndPoint.ToString() ?? "?", _limits.MaxConnections, suppressed);
            return Task.CompletedTask;
        }
        Volatile.Write(ref state.Admitted, 1);
        return Task.CompletedTask;
    }

    private Task OnClientConnected(ClientConnectedEventArgs e)
    {
        if (e.RemoteEndPoint is not null && _connections.TryGetValue(e.RemoteEndPoint, out var state)) state.ClientId = e.ClientId;
        return Task.CompletedTask;
    }

    private Task OnOutboundPacket(InterceptingPacketEventArgs e)
    {
        // MQTTnet 5.2 builds CONNACK with Maximum Packet Size and Receive Maximum absent (unlimited);
        // this is its only hook to announce ours (MQTT 5 §3.2.2.3.3, §3.2.2.3.6). MQTT 3.1.1 has no
        // such properties, and its encoder writes none.
        if (e.Packet is MqttConnAckPacket connAck)
        {
            connAck.MaximumPacketSize = (uint)_limits.MaxPacketBytes;
            connAck.ReceiveMaximum = (ushort)_limits.MaxInflight;
        }
        return Task.CompletedTask;
    }

    private Task OnQueuedMessageOverwritten(QueueMessageOverwrittenEventArgs e)
    {
        var total = Interlocked.Increment(ref _dropped);
        if (_dropLog.TryEnter(out var suppressed))
            Log.QueuedMessagesDropped(_logger, suppressed + 1, total, e.ReceiverClientId, _limits.MaxQueued);
        return Task.CompletedTask;
    }

    private async ValueTask OnViolationAsync(MqttConnectionState state, MqttViolation violation)
    {
        Interlocked.Increment(ref _closed);
        if (_closeLog.TryEnter(out var suppressed))
        {
            Log.ConnectionClosed(_logger, state.RemoteEndPoint?.ToString() ?? "?", state.ClientId ?? "-", Describe(violation),
                _limits.MaxPacketBytes, _limits.MaxInflight, suppressed);
        }
        // MQTT 3.1.1 has no DISCONNECT from the server: closing is all it gets. MQTT 5 §4.13: the
        // server may send DISCONNECT with a reason code first; MQTTnet sends it under its write lock.
        if (state.ProtocolLevel != 5 || state.ClientId is not { } clientId) return;
        var reason = violation switch
        {
            MqttViolation.PacketTooLarge => MqttDisconnectReasonCode.PacketTooLarge,
            MqttViolation.ReceiveMaximumExceeded => MqttDisconnectReasonCode.ReceiveMaximumExceeded,
            MqttViolation.ProtocolError => MqttDisconnectReasonCode.ProtocolError,
            _ => MqttDisconnectReasonCode.MalformedPacket,
        };
        try
        {
            await _server.DisconnectClientAsync(clientId, new MqttServerClientDisconnectOptions { ReasonCode = reason })
                .WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Gone already or taken over: the connection closes either way.
            Log.DisconnectFailed(_logger, clientId, ex.Message);
        }
    }

    private static string Describe(MqttViolation violation) => violation switch
    {
        MqttViolation.PacketTooLarge => "packet larger than --mqtt-max-packet",
        MqttViolation.ReceiveMaximumExceeded => "more QoS 2 messages awaiting PUBREL than --mqtt-max-inflight",
        MqttViolation.ProtocolError => "protocol error (first packet not CONNECT, or a second CONNECT)",
        _ => "malformed packet",
    };

    /// <summary>
    /// Refuses a PUBLISH whose topic name is not one (<see cref="MqttTopicName.IsValid"/>): not
    /// logged, not delivered. MQTT 5 (§4.13, reason 0x90 Topic Name invalid): DISCONNECT, and the
    /// PUBACK/PUBREC, if MQTTnet still sends it, carries 0x90. MQTT 3.1.1 (§4.8): the connection is closed.
    /// </summary>
    public static async Task RefuseInvalidTopicAsync(MqttServer server, InterceptingPublishEventArgs e, bool mqtt5, ILogger logger)
    {
        e.ProcessPublish = false;
        e.CloseConnection = true;
        Log.InvalidTopic(logger, e.ClientId, e.ApplicationMessage?.Topic ?? "");
        if (!mqtt5) return;
        e.Response.ReasonCode = MqttPubAckReasonCode.TopicNameInvalid;
        try
        {
            await server.DisconnectClientAsync(e.ClientId, new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.TopicNameInvalid })
                .WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.DisconnectFailed(logger, e.ClientId, ex.Message);
        }
    }

    /// <summary>Also the own broker core's (<see cref="Core.MqttCoreBroker"/>): the same event has the same id under either engine.</summary>
    internal static partial class Log
    {
        [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "MQTT connection from {RemoteEndPoint} (client {ClientId}) closed: {Reason} (max packet {MaxPacket} bytes, max inflight {MaxInflight}); {Suppressed} similar closes not logged")]
        public static partial void ConnectionClosed(ILogger logger, string remoteEndPoint, string clientId, string reason, int maxPacket, int maxInflight, long suppressed);

        [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "MQTT CONNECT from {ClientId} at {RemoteEndPoint} refused: {MaxConnections} clients connected (--mqtt-max-connections); {Suppressed} similar refusals not logged")]
        public static partial void ConnectionRefused(ILogger logger, string clientId, string remoteEndPoint, int maxConnections, long suppressed);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "MQTT: {Count} queued messages dropped (oldest first) for subscribers over --mqtt-max-queued {MaxQueued}, {Total} since start; latest for client {ClientId}")]
        public static partial void QueuedMessagesDropped(ILogger logger, long count, long total, string clientId, int maxQueued);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "MQTT PUBLISH from {ClientId} refused: '{MqttTopic}' is not a topic name (empty, or holds '+', '#' or U+0000); connection closed")]
        public static partial void InvalidTopic(ILogger logger, string clientId, string mqttTopic);

        [LoggerMessage(EventId = 4104, Level = LogLevel.Debug, Message = "MQTT DISCONNECT to {ClientId} not sent: {Reason}")]
        public static partial void DisconnectFailed(ILogger logger, string clientId, string reason);
    }
}
