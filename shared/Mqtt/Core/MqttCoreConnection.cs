using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using EdgeStream.Mqtt.Limits;
using EdgeStream.Mqtt.Persistence;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// One MQTT connection of the own broker core on Kestrel's pipe. The read loop parses as many
/// packets as the buffer holds and handles each without leaving the loop (no thread-pool hop per
/// packet); everything written goes through one writer loop, which encodes what is due (control
/// packets in order, then deliveries the session's window allows) and flushes once per batch.
/// A QoS 1/2 acknowledgement waits in the writer's queue until its log append is durable.
/// </summary>
public sealed partial class MqttCoreConnection
{
    /// <summary>Topic aliases a client may use toward us (MQTT 5 §3.2.2.3.8, announced in CONNACK).</summary>
    public const ushort TopicAliasMaximum = 64;
    private const int FlushThresholdBytes = 64 * 1024;

    private readonly ConnectionContext _context;
    private readonly MqttCoreBroker _broker;
    private readonly MqttLimits _limits;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly ConcurrentQueue<Outgoing> _control = new();
    private readonly SemaphoreSlim _wakeSignal = new(0, 1);
    private readonly MqttPacketFormatterAdapter _decoder = new(new MqttBufferWriter(4096, 65535));
    private MqttPacketFormatterAdapter? _encoder;
    private int _signalled;
    // Writers woken while this thread handles a read batch (its own connection's for the acks, the
    // subscribers' for the deliveries): each is woken once, at the batch's end, so it encodes and
    // flushes what all the packets of one read queued in one pass instead of being woken (a
    // thread-pool hop) for the first. _wakeDeferred: this connection is in some thread's list.
    [ThreadStatic] private static List<MqttCoreConnection>? t_deferredWakes;
    [ThreadStatic] private static bool t_inBatch;
    private int _wakeDeferred;
    private volatile bool _closing;
    private HashSet<ushort>? _awaitingRelease;
    private Dictionary<ushort, string>? _aliases;
    private uint _clientMaximumPacketSize;
    private MqttTopicAliasSender? _outboundAliases;

    /// <summary>A packet to write; an acknowledgement waits for <see cref="Durable"/> to be durable first.</summary>
    private readonly record struct Outgoing(MqttPacket Packet, MqttLogAppend? Durable);

    public MqttCoreConnection(ConnectionContext context, MqttCoreBroker broker, MqttLimits limits)
    {
        _context = context;
        _broker = broker;
        _limits = limits;
        _input = context.Transport.Input;
        _output = context.Transport.Output;
        LastPacketMs = Environment.TickCount64;
        StartHandshakeClock();
    }

    public string RemoteEndPoint => _context.RemoteEndPoint?.ToString() ?? "?";

    /// <summary>The client's address (for ACL host checks).</summary>
    public System.Net.EndPoint? RemoteEndPointAddress => _context.RemoteEndPoint;

    public MqttProtocolVersion ProtocolVersion { get; private set; }

    public string? ClientId { get; private set; }

    public MqttCoreSession? Session { get; private set; }

    /// <summary>The principal of the client (<c>User:NAME</c>), null when anonymous.</summary>
    public string? Principal { get; private set; }

    /// <summary>The keep alive in seconds the connection is held to (§3.1.2.10): the client's, or an MQTT 5 Server Keep Alive; 0 for none.</summary>
    public ushort KeepAliveSeconds { get; private set; }

    /// <summary><see cref="Environment.TickCount64"/> of the last packet received.</summary>
    public long LastPacketMs { get; private set; }

    /// <summary>The CONNECT's will, published when the connection ends other than by DISCONNECT (§3.1.2.5).</summary>
    internal MqttConnectPacket? Will { get; private set; }

    internal bool Admitted;

    private bool IsV5 => ProtocolVersion == MqttProtocolVersion.V500;

    /// <summary>Runs the connection until either side closes it.</summary>
    public async Task RunAsync()
    {
        _broker.OnOpened(this);
        var writer = WriteLoopAsync();
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        // Whatever one connection's input does (a packet MQTTnet's decoder refuses included) ends that connection only.
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MqttCoreLog.ConnectionFailed(_broker.Logger, RemoteEndPoint, ClientId ?? "-", ex.Message);
        }
        finally
        {
            _closing = true;
            Wake();
            try { await writer.ConfigureAwait(false); }
            catch (Exception ex) when (ex is not OutOfMemoryException) { MqttCoreLog.ConnectionFailed(_broker.Logger, RemoteEndPoint, ClientId ?? "-", ex.Message); }
            _broker.OnClosed(this);
        }
    }

    /// <summary>Wakes the writer: something is due (a control packet, a delivery, a free window slot).</summary>
    internal void Wake()
    {
        if (t_inBatch)
        {
            // Another thread's list may hold it already: that batch's end wakes it, after what was queued here.
            if (Interlocked.Exchange(ref _wakeDeferred, 1) == 0) (t_deferredWakes ??= []).Add(this);
            return;
        }
        WakeNow();
    }

    private void WakeNow()
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 0) _wakeSignal.Release();
    }

    /// <summary>Ends this thread's read batch: wakes the writers it deferred.</summary>
    private static void EndBatch()
    {
        t_inBatch = false;
        if (t_deferredWakes is not { Count: > 0 } deferred) return;
        foreach (var connection in deferred)
        {
            Volatile.Write(ref connection._wakeDeferred, 0);
            connection.WakeNow();
        }
        deferred.Clear();
    }

    /// <summary>Ends the connection, MQTT 5 with a DISCONNECT carrying <paramref name="reason"/> first (§4.13).</summary>
    internal void Close(MqttDisconnectReasonCode reason, bool publishWill = true)
    {
        if (!publishWill) Will = null;
        if (IsV5 && _encoder is not null) Send(new MqttDisconnectPacket { ReasonCode = reason });
        _closing = true;
        Wake();
        _input.CancelPendingRead();
    }

    /// <summary>Closes the socket at once (keep alive expired, handshake overdue).</summary>
    internal void Abort(string reason) => _context.Abort(new ConnectionAbortedException(reason));

    private void Send(MqttPacket packet, MqttLogAppend? durable = null)
    {
        _control.Enqueue(new Outgoing(packet, durable));
        Wake();
    }

    // ---- reading ---------------------------------------------------------------------------

    private async Task ReadLoopAsync()
    {
        while (!_closing)
        {
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            t_inBatch = true;
            try
            {
                while (!_closing)
                {
                    // §3.1: the first packet is CONNECT; anything else is refused on its first byte.
                    if (_encoder is null && !buffer.IsEmpty && buffer.FirstSpan[0] >> 4 != (int)MqttControlPacketType.Connect)
                    {
                        Violation(MqttDisconnectReasonCode.ProtocolError, "first packet not CONNECT");
                        return;
                    }
                    var status = MqttFrameReader.TryRead(ref buffer, _limits.MaxPacketBytes, out var header, out var body);
                    if (status == MqttFrameStatus.Incomplete) break;
                    if (status != MqttFrameStatus.Complete)
                    {
                        Violation(status == MqttFrameStatus.TooLarge ? MqttDisconnectReasonCode.PacketTooLarge : MqttDisconnectReasonCode.MalformedPacket,
                            status == MqttFrameStatus.TooLarge ? "packet larger than --mqtt-max-packet" : "malformed remaining length");
                        return;
                    }
                    consumed = buffer.Start;
                    LastPacketMs = Environment.TickCount64;
                    if (!Handle(header, body)) return;
                }
                if (result.IsCompleted || result.IsCanceled) return;
            }
            finally
            {
                _input.AdvanceTo(consumed, buffer.End);
                EndBatch();
            }
        }
    }

    private void Violation(MqttDisconnectReasonCode reason, string description)
    {
        _broker.CountViolation(this, description);
        Close(reason);
    }

    /// <summary>Handles one packet; false ends the connection.</summary>
    private bool Handle(byte header, ReadOnlySequence<byte> body)
    {
        var type = (MqttControlPacketType)(header >> 4);
        // The body is copied once: MQTTnet's decoder reads an array, and a PUBLISH's payload is a slice of it.
        var bytes = body.ToArray();
        var received = new ReceivedMqttPacket(header, new ArraySegment<byte>(bytes), bytes.Length + 2);
        if (_encoder is null)
        {
            // §3.1: the first packet is CONNECT.
            if (type != MqttControlPacketType.Connect)
            {
                Violation(MqttDisconnectReasonCode.ProtocolError, "first packet not CONNECT");
                return false;
            }
            if (!CheckConnectHeader(bytes)) return false;
            _decoder.DetectProtocolVersion(received);
            ProtocolVersion = _decoder.ProtocolVersion;
            _encoder = new MqttPacketFormatterAdapter(ProtocolVersion, new MqttBufferWriter(4096, 65535));
            return OnConnect((MqttConnectPacket)_decoder.Decode(received));
        }
        // AUTH is a reserved packet type in MQTT 3.1.1: refused here, whatever MQTTnet's 3.1.1 decoder would make of it.
        if (type == MqttControlPacketType.Auth && !IsV5)
        {
            Violation(MqttDisconnectReasonCode.ProtocolError, "AUTH in MQTT 3.1.1");
            return false;
        }
        var packet = _decoder.Decode(received);
        if (_authenticatingConnect is not null && packet is not (MqttAuthPacket or MqttDisconnectPacket))
            return AuthViolation($"{type} before the CONNACK of an authentication exchange");
        switch (packet)
        {
            case MqttAuthPacket auth: return OnAuth(auth);
            case MqttPublishPacket publish: return OnPublish(publish, bytes);
            case MqttPubAckPacket ack:
                Session?.Complete(ack.PacketIdentifier, out _);
                return true;
            case MqttPubRecPacket rec:
                Session?.Received(rec.PacketIdentifier);
                Send(new MqttPubRelPacket { PacketIdentifier = rec.PacketIdentifier });
                return true;
            case MqttPubRelPacket rel:
                _awaitingRelease?.Remove(rel.PacketIdentifier);
                Send(new MqttPubCompPacket { PacketIdentifier = rel.PacketIdentifier });
                return true;
            case MqttPubCompPacket comp:
                Session?.Complete(comp.PacketIdentifier, out _);
                return true;
            case MqttSubscribePacket subscribe:
                var retained = new List<MqttCoreDelivery>();
                Send(_broker.Subscribe(this, subscribe, retained));
                // After the SUBACK: the writer sends control packets before deliveries.
                foreach (var delivery in retained) Session!.Enqueue(delivery);
                return true;
            case MqttUnsubscribePacket unsubscribe:
                Send(_broker.Unsubscribe(this, unsubscribe));
                return true;
            case MqttPingReqPacket:
                Send(MqttPingRespPacket.Instance);
                return true;
            case MqttDisconnectPacket disconnect: return OnDisconnect(disconnect, bytes);
            case MqttConnectPacket:
                Violation(MqttDisconnectReasonCode.ProtocolError, "second CONNECT");
                return false;
            default:
                // A server-to-client packet.
                Violation(MqttDisconnectReasonCode.ProtocolError, $"unexpected {type}");
                return false;
        }
    }

    /// <summary>
    /// The CONNECT's protocol, flags and 3.1.x client id, before MQTTnet's decoder (which throws on an unknown
    /// protocol and on an empty 3.1.1 id without CleanSession, where the spec wants a CONNACK); false ends the connection.
    /// </summary>
    private bool CheckConnectHeader(byte[] body)
    {
        switch (MqttConnectHeader.Check(body))
        {
            case MqttConnectHeaderStatus.Valid:
                return true;
            case MqttConnectHeaderStatus.UnacceptableProtocol:
                // MQTT 3.1.1 §3.1.2.2: CONNACK 0x01 (unacceptable protocol level), then close. In 3.1.1's
                // encoding, as mosquitto answers: the client's own version is the one not understood.
                _broker.CountViolation(this, "unacceptable protocol name or level");
                RefuseConnect(MqttProtocolVersion.V311, MqttConnectReturnCode.ConnectionRefusedUnacceptableProtocolVersion);
                return false;
            case MqttConnectHeaderStatus.IdentifierRejected:
                // MQTT 3.1.1 §3.1.3.1 [MQTT-3.1.3-9]: CONNACK 0x02 (identifier rejected), then close.
                RefuseConnect(body[2 + (body[0] << 8 | body[1])] == 3 ? MqttProtocolVersion.V310 : MqttProtocolVersion.V311,
                    MqttConnectReturnCode.ConnectionRefusedIdentifierRejected);
                return false;
            case var status:
                // §3.1.2.3, §3.1.2.6: invalid connect flags close the connection without a CONNACK.
                Violation(MqttDisconnectReasonCode.MalformedPacket, status == MqttConnectHeaderStatus.Malformed ? "truncated CONNECT" : "invalid CONNECT flags");
                return false;
        }
    }

    /// <summary>Answers a CONNECT MQTTnet's decoder would throw on with an MQTT 3.1.x CONNACK refusal, and ends the connection.</summary>
    private void RefuseConnect(MqttProtocolVersion version, MqttConnectReturnCode code)
    {
        ProtocolVersion = version;
        _encoder = new MqttPacketFormatterAdapter(version, new MqttBufferWriter(4096, 65535));
        Send(new MqttConnAckPacket { ReturnCode = code });
        _closing = true;
    }

    private bool OnConnect(MqttConnectPacket connect)
    {
        var certificate = _context.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
        if (IsV5 && string.IsNullOrEmpty(connect.AuthenticationMethod) && connect.AuthenticationData is { Length: > 0 })
        {
            // §3.1.2.11.10: Authentication Data without a method is a Protocol Error.
            _broker.CountViolation(this, "Authentication Data without Authentication Method");
            return RefuseConnAck(MqttConnectReasonCode.ProtocolError);
        }
        // A verified client certificate is the identity, as it is over a password (MqttAuthentication): the
        // method is not run, and the CONNACK carries none.
        if (IsV5 && !string.IsNullOrEmpty(connect.AuthenticationMethod) && certificate is null) return StartAuthentication(connect);
        return Accept(connect, certificate, null, null);
    }

    /// <summary>Answers a CONNECT with a refusal and ends the connection; returns false for the read loop.</summary>
    private bool RefuseConnAck(MqttConnectReasonCode code)
    {
        Send(ConnAck(code, false, null));
        _closing = true;
        Wake();
        return false;
    }

    /// <summary>
    /// Admits the CONNECT (or refuses it: credentials, limits) and binds its session. <paramref name="principal"/>
    /// is what an enhanced authentication exchange proved, <paramref name="authenticationData"/> its last word for the CONNACK.
    /// </summary>
    private bool Accept(MqttConnectPacket connect, X509Certificate2? certificate, string? principal, byte[]? authenticationData)
    {
        var result = _broker.Connect(this, connect, certificate, principal);
        if (result.ReasonCode != MqttConnectReasonCode.Success) return RefuseConnAck(result.ReasonCode);
        StopHandshakeClock();
        ClientId = result.ClientId;
        Principal = result.Principal;
        KeepAliveSeconds = MqttKeepAlive.Grant(connect.KeepAlivePeriod, _limits.MaxKeepAliveSeconds, IsV5, out var serverKeepAlive);
        _clientMaximumPacketSize = connect.MaximumPacketSize;
        // MQTT 5 §3.1.2.11.5: aliases toward the client only up to the maximum it announced (absent: none).
        if (IsV5 && connect.TopicAliasMaximum > 0) _outboundAliases = new MqttTopicAliasSender(connect.TopicAliasMaximum);
        if (connect.WillFlag) Will = connect;
        // CONNACK first; the writer takes deliveries of the session (what a resumed one owes) only once it is set.
        var connAck = ConnAck(MqttConnectReasonCode.Success, result.SessionPresent, result.AssignedClientId, serverKeepAlive);
        if (principal is not null)
        {
            // §3.2.2.3.17-18: the method that authenticated, and its final data (SCRAM's server-final).
            connAck.AuthenticationMethod = _authenticationMethod;
            connAck.AuthenticationData = authenticationData is { Length: > 0 } ? authenticationData : null;
        }
        Send(connAck);
        Session = result.Session;
        Wake();
        return true;
    }

    private MqttConnAckPacket ConnAck(MqttConnectReasonCode code, bool sessionPresent, string? assigned, ushort serverKeepAlive = 0) => new()
    {
        ReasonCode = code,
        ReturnCode = ReturnCodeOf(code),
        IsSessionPresent = sessionPresent,
        AssignedClientIdentifier = assigned,
        // MQTT 5 §3.2.2.3: what this server accepts.
        ReceiveMaximum = (ushort)_limits.MaxInflight,
        MaximumPacketSize = (uint)_limits.MaxPacketBytes,
        TopicAliasMaximum = TopicAliasMaximum,
        MaximumQoS = MqttQualityOfServiceLevel.ExactlyOnce,
        RetainAvailable = true,
        WildcardSubscriptionAvailable = true,
        SubscriptionIdentifiersAvailable = true,
        SharedSubscriptionAvailable = true,
        // §3.2.2.3.14: 0 is not sent; the client keeps the keep alive it asked for.
        ServerKeepAlive = serverKeepAlive,
    };

    /// <summary>MQTT 3.1.1 §3.2.2.3 return codes for the MQTT 5 reasons the broker refuses with.</summary>
    private static MqttConnectReturnCode ReturnCodeOf(MqttConnectReasonCode code) => code switch
    {
        MqttConnectReasonCode.Success => MqttConnectReturnCode.ConnectionAccepted,
        MqttConnectReasonCode.UnsupportedProtocolVersion => MqttConnectReturnCode.ConnectionRefusedUnacceptableProtocolVersion,
        MqttConnectReasonCode.ClientIdentifierNotValid => MqttConnectReturnCode.ConnectionRefusedIdentifierRejected,
        MqttConnectReasonCode.BadUserNameOrPassword => MqttConnectReturnCode.ConnectionRefusedBadUsernameOrPassword,
        MqttConnectReasonCode.NotAuthorized => MqttConnectReturnCode.ConnectionRefusedNotAuthorized,
        _ => MqttConnectReturnCode.ConnectionRefusedServerUnavailable,
    };

    private bool OnPublish(MqttPublishPacket publish, byte[] body)
    {
        var qos = publish.QualityOfServiceLevel;
        if (IsV5 && MqttPropertyScanner.PublishTopicAlias(body, qos != MqttQualityOfServiceLevel.AtMostOnce) is { } alias)
        {
            // §3.3.2.3.4: 0, or above the Topic Alias Maximum we announced, is a protocol error (0x94).
            if (alias == 0 || alias > TopicAliasMaximum)
            {
                Violation(MqttDisconnectReasonCode.TopicAliasInvalid, $"topic alias {alias}");
                return false;
            }
            _aliases ??= [];
            if (!string.IsNullOrEmpty(publish.Topic)) _aliases[(ushort)alias] = publish.Topic;
            else if (_aliases.TryGetValue((ushort)alias, out var known)) publish.Topic = known;
            else
            {
                Violation(MqttDisconnectReasonCode.ProtocolError, $"topic alias {alias} not set");
                return false;
            }
        }
        if (!MqttTopicName.IsValid(publish.Topic))
        {
            MqttConnectionGuard.Log.InvalidTopic(_broker.Logger, ClientId ?? "-", publish.Topic ?? "");
            Close(MqttDisconnectReasonCode.TopicNameInvalid);
            return false;
        }
        if (qos == MqttQualityOfServiceLevel.ExactlyOnce)
        {
            _awaitingRelease ??= [];
            // A resent QoS 2 PUBLISH (§4.3.3): acknowledged again, not delivered again.
            if (_awaitingRelease.Contains(publish.PacketIdentifier))
            {
                Send(new MqttPubRecPacket { PacketIdentifier = publish.PacketIdentifier });
                return true;
            }
            if (_awaitingRelease.Count >= _limits.MaxInflight)
            {
                Violation(MqttDisconnectReasonCode.ReceiveMaximumExceeded, "more QoS 2 messages awaiting PUBREL than --mqtt-max-inflight");
                return false;
            }
            _awaitingRelease.Add(publish.PacketIdentifier);
        }
        var outcome = _broker.Publish(this, publish);
        if (outcome.CloseConnection)
        {
            Close(MqttDisconnectReasonCode.UnspecifiedError);
            return false;
        }
        switch (qos)
        {
            case MqttQualityOfServiceLevel.AtLeastOnce:
                Send(new MqttPubAckPacket { PacketIdentifier = publish.PacketIdentifier, ReasonCode = outcome.ReasonCode, ReasonString = outcome.ReasonString }, outcome.Durable);
                break;
            case MqttQualityOfServiceLevel.ExactlyOnce:
                Send(new MqttPubRecPacket
                {
                    PacketIdentifier = publish.PacketIdentifier,
                    ReasonCode = (MqttPubRecReasonCode)(int)outcome.ReasonCode,
                    ReasonString = outcome.ReasonString,
                }, outcome.Durable);
                break;
        }
        return true;
    }

    private bool OnDisconnect(MqttDisconnectPacket disconnect, byte[] body)
    {
        // A client giving up its authentication exchange: nothing was admitted, nothing to keep.
        if (Session is not { } session)
        {
            _closing = true;
            return false;
        }
        if (IsV5 && MqttPropertyScanner.DisconnectSessionExpiry(body) is { } expiry)
        {
            // §3.14.2.2.2: a session that was to end with the connection cannot be made to outlive it.
            if (session.ExpirySeconds == 0 && expiry != 0)
            {
                Violation(MqttDisconnectReasonCode.ProtocolError, "DISCONNECT set a session expiry on a session that had none");
                return false;
            }
            session.ExpirySeconds = expiry;
        }
        // §3.14.4: a normal DISCONNECT discards the will; 0x04 asks for it to be published.
        if (!(IsV5 && disconnect.ReasonCode == MqttDisconnectReasonCode.DisconnectWithWillMessage)) Will = null;
        _closing = true;
        Wake();
        return false;
    }

    // ---- writing ---------------------------------------------------------------------------

    private async Task WriteLoopAsync()
    {
        while (true)
        {
            await _wakeSignal.WaitAsync().ConfigureAwait(false);
            Volatile.Write(ref _signalled, 0);
            var wrote = false;
            while (_control.TryDequeue(out var outgoing))
            {
                Exception? failure = null;
                if (outgoing.Durable is { } written)
                {
                    // Acknowledgements are in append order: the first one an fsync has yet to cover is
                    // waited for, and those after it that the same fsync covered are durable by then.
                    var durable = written.WaitDurableAsync();
                    if (!durable.IsCompleted)
                    {
                        if (wrote && (await _output.FlushAsync().ConfigureAwait(false)).IsCompleted) return;
                        wrote = false;
                    }
                    try { await durable.ConfigureAwait(false); }
                    catch (Exception ex) when (ex is not OutOfMemoryException) { failure = ex; }
                }
                if (failure is not null && !Refuse(outgoing.Packet, failure))
                {
                    // MQTT 3.1.1 has no negative acknowledgement: no ack, the connection closes and the client resends.
                    _closing = true;
                    _input.CancelPendingRead();
                    if (wrote) await _output.FlushAsync().ConfigureAwait(false);
                    return;
                }
                Write(_encoder!.Encode(outgoing.Packet));
                wrote = true;
            }
            // Not after a takeover: the session's deliveries are the new connection's then.
            if (!_closing && Session is { } session && ReferenceEquals(session.Connection, this))
            {
                var now = Environment.TickCount64;
                while (session.TryTakeNext(now, out var delivery, out var expired))
                {
                    if (expired > 0) MqttCoreBroker.CountExpired(expired);
                    if (!WriteDelivery(delivery, now)) session.Abandon(delivery);
                    else wrote = true;
                    if (_output.UnflushedBytes >= FlushThresholdBytes)
                    {
                        if ((await _output.FlushAsync().ConfigureAwait(false)).IsCompleted) return;
                        wrote = false;
                    }
                }
            }
            if (wrote && (await _output.FlushAsync().ConfigureAwait(false)).IsCompleted) return;
            if (_closing && _control.IsEmpty) return;
        }
    }

    /// <summary>An acknowledgement whose append failed: MQTT 5 gets the reason; false for MQTT 3.1.1 (no negative ack).</summary>
    private bool Refuse(MqttPacket ack, Exception failure)
    {
        MqttLog.PublishRefused(_broker.Logger, ClientId ?? "-", "(pipelined)", -1, failure.Message);
        MqttMetrics.Drop("refused");
        if (!IsV5) return false;
        MqttAppendOutcome.Refuse(ack, failure);
        return true;
    }

    /// <summary>Writes one delivery (or its PUBREL when the client has it already); false when it was dropped instead.</summary>
    private bool WriteDelivery(MqttCoreDelivery delivery, long nowMs)
    {
        if (delivery.Released)
        {
            Write(_encoder!.Encode(new MqttPubRelPacket { PacketIdentifier = delivery.PacketId }));
            return true;
        }
        var message = delivery.Message;
        uint expiry = 0;
        if (delivery.ExpiresAtMs != 0)
        {
            var leftMs = delivery.ExpiresAtMs - nowMs;
            if (leftMs <= 0)
            {
                MqttCoreBroker.CountExpired(1);
                return false;
            }
            // Rounded up: 0 would mean "never" on the wire.
            expiry = (uint)((leftMs + 999) / 1000);
        }
        // §3.3.2.3.4: a topic the client has an alias for goes out as the alias with an empty topic name.
        var topic = message.Topic;
        ushort alias = 0;
        var known = false;
        if (_outboundAliases is not null) alias = _outboundAliases.Choose(topic, out known);
        var packet = new MqttPublishPacket
        {
            Topic = known ? "" : topic,
            TopicAlias = alias,
            Payload = message.Payload,
            QualityOfServiceLevel = delivery.Qos,
            Retain = delivery.Retain,
            Dup = delivery.Dup,
            PacketIdentifier = delivery.PacketId,
            ContentType = message.ContentType,
            CorrelationData = message.CorrelationData,
            ResponseTopic = message.ResponseTopic,
            PayloadFormatIndicator = message.PayloadFormatIndicator,
            MessageExpiryInterval = expiry,
            UserProperties = message.UserProperties,
            SubscriptionIdentifiers = delivery.SubscriptionIds,
        };
        var encoded = _encoder!.Encode(packet);
        // MQTT 5 §3.1.2.11.4: a packet larger than the client's Maximum Packet Size is not sent, and
        // is dropped as if delivered.
        if (_clientMaximumPacketSize != 0 && (uint)encoded.Length > _clientMaximumPacketSize)
        {
            _broker.CountTooLarge(this, encoded.Length, _clientMaximumPacketSize);
            return false;
        }
        Write(encoded);
        if (alias != 0 && !known) _outboundAliases!.Assigned(topic, alias);
        MqttMetrics.Sent();
        return true;
    }

    private void Write(MqttPacketBuffer buffer)
    {
        _output.Write(buffer.Packet);
        foreach (var segment in buffer.Payload) _output.Write(segment.Span);
    }
}
