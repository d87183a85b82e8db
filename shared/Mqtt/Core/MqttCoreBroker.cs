using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using EdgeStream.Mqtt.Limits;
using EdgeStream.Mqtt.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>What a CONNECT came to: refused with a reason, or a session for the connection.</summary>
internal readonly record struct MqttConnectResult(MqttConnectReasonCode ReasonCode, string? ClientId = null, string? AssignedClientId = null,
    string? Principal = null, MqttCoreSession? Session = null, bool SessionPresent = false);

/// <summary>What a PUBLISH came to: the acknowledgement's reason and, for QoS 1/2, the append whose durability it waits for.</summary>
internal readonly record struct MqttPublishOutcome(MqttPubAckReasonCode ReasonCode, string? ReasonString, MqttLogAppend? Durable, bool CloseConnection);

/// <summary>
/// The own MQTT broker core (<c>--mqtt-engine own</c>): sessions by client id, the subscription trie
/// and shared groups, retained messages, and routing of every message to the sessions it matches.
/// Connections (<see cref="MqttCoreConnection"/>) call in; what goes into the log goes through
/// <see cref="MqttLogBridge"/>, who may do what through <see cref="MqttAuthentication"/> and
/// <see cref="MqttAuthorization"/>, as with MQTTnet's server. Routing holds one lock: the trie, the
/// session table and the groups change under it; a session's own queue has its own lock inside.
/// </summary>
public sealed partial class MqttCoreBroker : IHostedService, IMqttMessageInjector
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// QoS 1/2 messages in flight toward one client at most, whatever its Receive Maximum (mosquitto's
    /// max_inflight_messages, also 20). Without a cap a subscriber slower than the publishers gets
    /// everything owed queued in its socket; with a small receive buffer on loopback (MQTTnet's 8 KiB
    /// default) Linux then sends only on the zero-window probe timer and deliveries fall seconds
    /// behind. Beyond the window messages wait in the bounded session queue (--mqtt-max-queued).
    /// </summary>
    internal const int OutboundWindow = 20;
    private static readonly TimeSpan DropLogInterval = TimeSpan.FromSeconds(10);

    private readonly MqttLogBridge _bridge;
    private readonly MqttLimits _limits;
    private readonly MqttRetainedStore _retainedStore;
    private readonly MqttAuthentication? _authentication;
    private readonly MqttAuthorization? _authorization;
    private readonly MqttSessionStore? _sessionStore;
    private readonly ILogger _logger;
    private readonly object _routing = new();
    private readonly MqttSubscriptionTrie _trie = new();
    private readonly Dictionary<string, MqttCoreSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (MqttApplicationMessage Message, long ExpiresAtMs)> _retained = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<MqttCoreConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<string, ITimer> _delayedWills = new(StringComparer.Ordinal);
    // Scratch lists of Route, used under _routing only.
    private readonly List<MqttCoreSubscription> _matched = [];
    private readonly List<MqttSharedGroup> _matchedGroups = [];
    private readonly Dictionary<MqttCoreSession, Target> _targets = [];
    private readonly LogThrottle _dropLog = new(DropLogInterval);
    private readonly LogThrottle _closeLog = new(TimeSpan.FromSeconds(1));
    private readonly LogThrottle _refuseLog = new(TimeSpan.FromSeconds(1));
    private ITimer? _sweep;
    private int _admitted;
    private long _dropped;
    private long _closed;
    private long _refused;

    /// <summary>What one session gets of one message when several of its subscriptions match (MQTT 5 §3.3.4).</summary>
    private record struct Target(MqttQualityOfServiceLevel Qos, bool RetainAsPublished, List<uint>? SubscriptionIds);

    public MqttCoreBroker(MqttLogBridge bridge, MqttLimits limits, MqttRetainedStore retainedStore, ILogger<MqttCoreBroker> logger,
        MqttAuthentication? authentication = null, MqttAuthorization? authorization = null, MqttSessionStore? sessionStore = null,
        MqttEnhancedAuthentication? enhancedAuthentication = null)
    {
        limits.Validate();
        _bridge = bridge;
        _limits = limits;
        _retainedStore = retainedStore;
        _logger = logger;
        _authentication = authentication;
        _authorization = authorization;
        _sessionStore = sessionStore;
        EnhancedAuthentication = enhancedAuthentication;
    }

    internal ILogger Logger => _logger;

    /// <summary>The MQTT 5 Authentication Methods offered (§4.12); null: none, a CONNECT naming one is refused 0x8C.</summary>
    internal MqttEnhancedAuthentication? EnhancedAuthentication { get; }

    public MqttLimits Limits => _limits;

    /// <summary>Clients connected now.</summary>
    public int Connections => Volatile.Read(ref _admitted);

    /// <summary>Queued messages dropped for slow subscribers since start.</summary>
    public long DroppedMessages => Interlocked.Read(ref _dropped);

    /// <summary>Connections closed for a framing or flow violation since start.</summary>
    public long ClosedConnections => Interlocked.Read(ref _closed);

    /// <summary>CONNECTs refused for the connection limit since start.</summary>
    public long RefusedConnections => Interlocked.Read(ref _refused);

    /// <summary>Sessions whose QoS 1/2 messages beyond the queue are read from the log now (for scrapes: walks the sessions).</summary>
    public long SessionsReadingFromLog()
    {
        long reading = 0;
        lock (_routing)
            foreach (var session in _sessions.Values)
                if (session.IsReadingFromLog) reading++;
        return reading;
    }

    /// <summary>Messages waiting in every session's queue now (for scrapes: walks the sessions).</summary>
    public long QueuedMessages()
    {
        long queued = 0;
        lock (_routing)
            foreach (var session in _sessions.Values) queued += session.Queued;
        return queued;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        var loaded = _retainedStore.Load();
        lock (_routing)
            foreach (var message in loaded) _retained[message.Topic] = (message, ExpiresAt(message, now));
        // Before the listener accepts connections and before the follower injects: a resumed client finds its session.
        RestoreSessions();
        _sweep = TimeProvider.System.CreateTimer(static state => ((MqttCoreBroker)state!).Sweep(), this, SweepInterval, SweepInterval);
        foreach (var rule in _bridge.Options.Map.Rules) MqttLog.BridgeStarted(_logger, rule.Filter, rule.LogTopic);
        MqttCoreLog.Started(_logger, loaded.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sweep?.Dispose();
        foreach (var timer in _delayedWills.Values) timer.Dispose();
        _delayedWills.Clear();
        foreach (var connection in _connections.Keys) connection.Close(MqttDisconnectReasonCode.ServerShuttingDown, publishWill: false);
        FinalCheckpoint();
        return Task.CompletedTask;
    }

    internal void OnOpened(MqttCoreConnection connection) => _connections[connection] = 0;

    // ---- connect and close -----------------------------------------------------------------

    /// <param name="authenticated">The principal an enhanced authentication exchange proved; it stands in for the CONNECT's credentials.</param>
    internal MqttConnectResult Connect(MqttCoreConnection connection, MqttConnectPacket connect, X509Certificate2? certificate, string? authenticated = null)
    {
        var v5 = connection.ProtocolVersion == MqttProtocolVersion.V500;
        var clientId = connect.ClientId;
        string? assigned = null;
        // Reserved: messages from this id are Kafka records going out, never logged again.
        if (clientId == MqttLogFollower.SenderClientId) return new(MqttConnectReasonCode.ClientIdentifierNotValid);
        // §3.1.3.1: an empty client id with a clean session gets one assigned; a persistent session needs one.
        if (string.IsNullOrEmpty(clientId))
        {
            if (!connect.CleanSession) return new(MqttConnectReasonCode.ClientIdentifierNotValid);
            clientId = assigned = "edgestream-" + Guid.NewGuid().ToString("N");
        }
        var principal = authenticated;
        if (authenticated is null && _authentication is not null)
        {
            var code = _authentication.Authenticate(certificate, connect.Username, connect.Password, connection.RemoteEndPoint, out principal);
            if (code != MqttConnectReasonCode.Success) return new(code);
        }
        if (Interlocked.Increment(ref _admitted) > _limits.MaxConnections)
        {
            Interlocked.Decrement(ref _admitted);
            Interlocked.Increment(ref _refused);
            if (_refuseLog.TryEnter(out var suppressed))
                MqttConnectionGuard.Log.ConnectionRefused(_logger, clientId, connection.RemoteEndPoint, _limits.MaxConnections, suppressed);
            // MQTT 5 0x97 Quota exceeded; MQTT 3.1.1 has no such code: server unavailable.
            return new(v5 ? MqttConnectReasonCode.QuotaExceeded : MqttConnectReasonCode.ServerUnavailable);
        }
        connection.Admitted = true;
        // MQTT 3.1.1 §3.1.2.4: CleanSession=0 keeps the session for good; MQTT 5 §3.1.2.11: for its expiry interval.
        var expiry = v5 ? connect.SessionExpiryInterval : connect.CleanSession ? 0 : uint.MaxValue;
        // §3.1.3.2.2: a new connection for the client id before the will delay has passed: no will.
        if (_delayedWills.TryRemove(clientId, out var will)) will.Dispose();

        MqttCoreConnection? previous = null;
        MqttCoreSession? session = null;
        var present = false;
        SessionWrite? persist;
        lock (_routing)
        {
            if (_sessions.TryGetValue(clientId, out var existing))
            {
                previous = existing.Connection;
                if (connect.CleanSession) RemoveLocked(existing);
                else
                {
                    session = existing;
                    present = true;
                }
            }
            if (session is null)
            {
                session = new MqttCoreSession(clientId, _limits.MaxQueued, StartCatchUp);
                _sessions[clientId] = session;
            }
            session.ExpirySeconds = expiry;
            // Bound now, so the taken-over connection's end does not end the session; the writer
            // sends nothing of it before the CONNACK (the connection sets its Session after queueing it).
            // The window toward the client: its Receive Maximum (65535 when absent), capped at OutboundWindow.
            session.Attach(connection, Math.Min(connect.ReceiveMaximum == 0 ? ushort.MaxValue : (int)connect.ReceiveMaximum, OutboundWindow));
            persist = PersistConnectLocked(session, present);
        }
        Write(persist);
        // §3.1.4: a second connection with the client id takes the session over; the first is closed.
        previous?.Close(MqttDisconnectReasonCode.SessionTakenOver);
        return new(MqttConnectReasonCode.Success, clientId, assigned, principal, session, present);
    }

    internal void OnClosed(MqttCoreConnection connection)
    {
        _connections.TryRemove(connection, out _);
        if (connection.Admitted) Interlocked.Decrement(ref _admitted);
        if (connection.Session is not { } session) return;
        if (session.Detach(connection))
        {
            SessionWrite? persist;
            lock (_routing)
            {
                // §4.8.2: what this member has not received goes to another member of its group.
                HandOverLocked(session, session.TakeShared(), keep: session.ExpirySeconds != 0);
                persist = PersistCloseLocked(session);
                if (session.ExpirySeconds == 0) RemoveLocked(session);
            }
            Write(persist);
        }
        if (connection.Will is { } will) PublishWill(connection, will, session);
    }

    private void PublishWill(MqttCoreConnection connection, MqttConnectPacket will, MqttCoreSession session)
    {
        var message = new MqttApplicationMessage
        {
            Topic = will.WillTopic,
            Payload = new System.Buffers.ReadOnlySequence<byte>(will.WillMessage ?? []),
            QualityOfServiceLevel = will.WillQoS,
            Retain = will.WillRetain,
            ContentType = will.WillContentType,
            CorrelationData = will.WillCorrelationData,
            ResponseTopic = will.WillResponseTopic,
            PayloadFormatIndicator = will.WillPayloadFormatIndicator,
            MessageExpiryInterval = will.WillMessageExpiryInterval,
            UserProperties = will.WillUserProperties,
        };
        var clientId = connection.ClientId!;
        // §3.1.3.2.2: after min(will delay, session expiry), unless the client connects again first.
        var delay = connection.ProtocolVersion == MqttProtocolVersion.V500 ? Math.Min(will.WillDelayInterval, session.ExpirySeconds) : 0;
        if (delay == 0)
        {
            Release(message, clientId);
            return;
        }
        ITimer? timer = null;
        timer = TimeProvider.System.CreateTimer(_ =>
        {
            if (_delayedWills.TryRemove(KeyValuePair.Create(clientId, timer!))) Release(message, clientId);
            timer!.Dispose();
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _delayedWills[clientId] = timer;
        timer.Change(TimeSpan.FromSeconds(Math.Min(delay, uint.MaxValue / 1000 - 1)), Timeout.InfiniteTimeSpan);
    }

    /// <summary>A will going out: appended to the log like any PUBLISH, then delivered.</summary>
    private void Release(MqttApplicationMessage message, string clientId)
    {
        if (!MqttTopicName.IsValid(message.Topic)) return;
        MqttMetrics.Received((int)message.QualityOfServiceLevel);
        try
        {
            var append = _bridge.AppendAsync(message, CancellationToken.None);
            if (append.IsCompletedSuccessfully) MqttLogPositions.Set(message, append.Result);
            else if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce) _ = MqttAppendOutcome.ObserveQos0Async(append, message.Topic, _logger);
            else
            {
                var task = append.AsTask();
                MqttLogPositions.Track(message, task);
                _ = MqttAppendOutcome.ObserveQos0Async(new ValueTask<LogPosition>(task), message.Topic, _logger);
            }
        }
        catch (MqttBridgeException ex)
        {
            MqttLog.PublishRefused(_logger, clientId, message.Topic, (int)message.QualityOfServiceLevel, ex.Message);
            MqttMetrics.Drop("refused");
            return;
        }
        var expiresAt = ExpiresAt(message, Environment.TickCount64);
        if (message.Retain) Retain(message, expiresAt);
        Route(message, clientId, expiresAt);
        MqttCoreLog.WillPublished(_logger, clientId, message.Topic);
    }

    /// <summary>Takes the session out of routing (its subscriptions and groups) and out of the table.</summary>
    private void RemoveLocked(MqttCoreSession session)
    {
        foreach (var subscription in session.Subscriptions.Values) _trie.Remove(session, subscription.Filter, subscription.Group);
        session.Subscriptions.Clear();
        HandOverLocked(session, session.TakeShared(), keep: false);
        session.Clear();
        session.Replayed = null;
        // A clean start or an expiry ends the stored session too (rare: one small write under the lock).
        if (session.Stored is not null)
        {
            session.Stored = null;
            Write(Deletion(session.ClientId));
        }
        if (_sessions.TryGetValue(session.ClientId, out var current) && ReferenceEquals(current, session)) _sessions.Remove(session.ClientId);
    }

    private static void HandOverLocked(MqttCoreSession from, List<MqttCoreDelivery> deliveries, bool keep)
    {
        foreach (var delivery in deliveries)
        {
            var member = delivery.Group!.Pick(except: from);
            if (member is not null && !ReferenceEquals(member.Session, from)) member.Session.Enqueue(delivery.Reassigned());
            else if (keep) from.Enqueue(delivery.Reassigned());
        }
    }

    // ---- publish ---------------------------------------------------------------------------

    internal MqttPublishOutcome Publish(MqttCoreConnection connection, MqttPublishPacket publish)
    {
        var v5 = connection.ProtocolVersion == MqttProtocolVersion.V500;
        var clientId = connection.ClientId!;
        var qos = publish.QualityOfServiceLevel;
        MqttMetrics.Received((int)qos);
        if (_authorization is not null &&
            !_authorization.MayPublish(connection.Principal, MqttAuthorization.HostOf(connection.RemoteEndPointAddress), publish.Topic, out var denied))
        {
            // MQTT 5: 0x87; MQTT 3.1.1 has no negative ack: acknowledged and dropped (as mosquitto does).
            return new(v5 ? MqttPubAckReasonCode.NotAuthorized : MqttPubAckReasonCode.Success, v5 ? denied : null, null, false);
        }
        var message = new MqttApplicationMessage
        {
            Topic = publish.Topic,
            Payload = publish.Payload,
            QualityOfServiceLevel = qos,
            Retain = publish.Retain,
            ContentType = publish.ContentType,
            CorrelationData = publish.CorrelationData,
            ResponseTopic = publish.ResponseTopic,
            PayloadFormatIndicator = publish.PayloadFormatIndicator,
            MessageExpiryInterval = publish.MessageExpiryInterval,
            UserProperties = publish.UserProperties,
        };
        MqttLogAppend? durable = null;
        try
        {
            if (qos == MqttQualityOfServiceLevel.AtMostOnce)
            {
                // Not the connection's token: once started, an append finishes (or fails) on its own.
                var append = _bridge.AppendAsync(message, CancellationToken.None);
                if (!append.IsCompletedSuccessfully) _ = MqttAppendOutcome.ObserveQos0Async(append, message.Topic, _logger);
            }
            else
            {
                // Written now; the acknowledgement waits in the writer until it is durable (pipelined:
                // the next packet is read meanwhile), and the writer waits once for all one fsync covers.
                var written = _bridge.Append(message);
                // Persistent sessions count what they owe in log positions (MqttCoreBroker.Persistence).
                if (written.Durability == Storage.AppendDurability.Durable) MqttLogPositions.Set(message, written.Position);
                else MqttLogPositions.Track(message, (durable = written).Value);
            }
        }
        catch (MqttBridgeException ex)
        {
            if (qos == MqttQualityOfServiceLevel.AtMostOnce)
            {
                MqttLog.Qos0Dropped(_logger, message.Topic, ex.Message);
                MqttMetrics.Drop("qos0_append_failed");
                return default;
            }
            MqttLog.PublishRefused(_logger, clientId, message.Topic, (int)qos, ex.Message);
            MqttMetrics.Drop("refused");
            // MQTT 3.1.1 has no negative ack: the connection closes and the client sends the message again.
            if (!v5) return new(MqttPubAckReasonCode.UnspecifiedError, null, null, true);
            var (code, reason) = MqttBridgeException.ReasonFor(ex);
            return new(code, reason, null, false);
        }
        var expiresAt = ExpiresAt(message, Environment.TickCount64);
        if (message.Retain) Retain(message, expiresAt);
        Route(message, clientId, expiresAt);
        return new(MqttPubAckReasonCode.Success, null, durable, false);
    }

    public Task InjectAsync(MqttApplicationMessage message, string senderClientId, CancellationToken cancellationToken = default)
    {
        var expiresAt = ExpiresAt(message, Environment.TickCount64);
        if (message.Retain) Retain(message, expiresAt);
        Route(message, senderClientId, expiresAt);
        return Task.CompletedTask;
    }

    private static long ExpiresAt(MqttApplicationMessage message, long nowMs) =>
        message.MessageExpiryInterval == 0 ? 0 : nowMs + message.MessageExpiryInterval * 1000L;

    private void Retain(MqttApplicationMessage message, long expiresAt)
    {
        lock (_routing)
        {
            // §3.3.1.3: an empty payload removes the topic's retained message.
            if (message.Payload.IsEmpty) _retained.Remove(message.Topic);
            else _retained[message.Topic] = (message, expiresAt);
        }
        _retainedStore.Put(message);
    }

    /// <summary>Queues <paramref name="message"/> for every session with a matching subscription, and one member per matching shared group.</summary>
    private void Route(MqttApplicationMessage message, string senderClientId, long expiresAt)
    {
        lock (_routing)
        {
            _matched.Clear();
            _matchedGroups.Clear();
            _targets.Clear();
            _trie.Match(message.Topic, _matched, _matchedGroups);
            foreach (var s in _matched)
            {
                // MQTT 5 §3.8.3.1: No Local.
                if (s.NoLocal && s.Session.ClientId == senderClientId) continue;
                var qos = (MqttQualityOfServiceLevel)Math.Min((int)s.Qos, (int)message.QualityOfServiceLevel);
                _targets.TryGetValue(s.Session, out var target);
                var ids = target.SubscriptionIds;
                if (s.SubscriptionId != 0) (ids ??= []).Add(s.SubscriptionId);
                // Overlapping subscriptions: the highest QoS of them (3.1.1 §3.3.5), every identifier (MQTT 5 §3.3.4).
                _targets[s.Session] = new Target((MqttQualityOfServiceLevel)Math.Max((int)target.Qos, (int)qos),
                    target.RetainAsPublished || s.RetainAsPublished, ids);
            }
            // A QoS 1/2 message with a log position (all but a will or publish whose append failed at once)
            // can be read back from the log when the session's queue is full.
            var logBacked = message.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce && MqttLogPositions.TryGetSlot(message, out _);
            foreach (var (session, target) in _targets)
                if (!ReplayedAlready(session, message))
                    Deliver(session, new MqttCoreDelivery(message, target.Qos, target.RetainAsPublished && message.Retain, target.SubscriptionIds, null, expiresAt)
                    {
                        LogBacked = logBacked && target.Qos != MqttQualityOfServiceLevel.AtMostOnce,
                    });
            foreach (var group in _matchedGroups)
            {
                if (group.Pick() is not { } member) continue;
                var qos = (MqttQualityOfServiceLevel)Math.Min((int)member.Qos, (int)message.QualityOfServiceLevel);
                var ids = member.SubscriptionId != 0 ? new List<uint> { member.SubscriptionId } : null;
                Deliver(member.Session, new MqttCoreDelivery(message, qos, member.RetainAsPublished && message.Retain, ids, group, expiresAt));
            }
        }
    }

    /// <summary>Queues a delivery, counting a drop; true when the session reads its QoS 1/2 messages from the log now.</summary>
    private bool Deliver(MqttCoreSession session, MqttCoreDelivery delivery)
    {
        switch (session.Enqueue(delivery))
        {
            case MqttEnqueueOutcome.Dropped:
                var total = Interlocked.Increment(ref _dropped);
                if (_dropLog.TryEnter(out var suppressed))
                    MqttConnectionGuard.Log.QueuedMessagesDropped(_logger, suppressed + 1, total, session.ClientId, _limits.MaxQueued);
                return false;
            case MqttEnqueueOutcome.ToLog:
                MqttCoreLog.ReadingFromLog(_logger, session.ClientId, _limits.MaxQueued);
                return true;
            case MqttEnqueueOutcome.FromLog:
                return true;
            default:
                return false;
        }
    }

    // ---- subscribe -------------------------------------------------------------------------

    internal MqttSubAckPacket Subscribe(MqttCoreConnection connection, MqttSubscribePacket subscribe, List<MqttCoreDelivery> retained)
    {
        var v5 = connection.ProtocolVersion == MqttProtocolVersion.V500;
        var session = connection.Session!;
        var ack = new MqttSubAckPacket { PacketIdentifier = subscribe.PacketIdentifier, ReasonCodes = [] };
        var now = Environment.TickCount64;
        foreach (var f in subscribe.TopicFilters)
        {
            // §4.8.2: no No Local on a shared subscription (a protocol error; refused here, not disconnected).
            if (!MqttCoreSubscription.TryParseShared(f.Topic, out var group, out var filter) || MqttTopicFilter.Validate(filter) is not null ||
                (group is not null && f.NoLocal))
            {
                ack.ReasonCodes.Add(v5 ? MqttSubscribeReasonCode.TopicFilterInvalid : MqttSubscribeReasonCode.UnspecifiedError);
                continue;
            }
            if (_authorization is not null &&
                !_authorization.MaySubscribe(connection.Principal, MqttAuthorization.HostOf(connection.RemoteEndPointAddress), filter, out var denied))
            {
                ack.ReasonCodes.Add(v5 ? MqttSubscribeReasonCode.NotAuthorized : MqttSubscribeReasonCode.UnspecifiedError);
                if (v5) ack.ReasonString = denied;
                continue;
            }
            var subscription = new MqttCoreSubscription(session, filter, group, f.QualityOfServiceLevel, f.NoLocal, f.RetainAsPublished,
                f.RetainHandling, subscribe.SubscriptionIdentifier);
            bool isNew;
            lock (_routing)
            {
                isNew = !session.Subscriptions.ContainsKey(f.Topic);
                session.Subscriptions[f.Topic] = subscription;
                _trie.Add(subscription);
                // §3.3.1.3: retained messages go to a new (non-shared) subscription, as its Retain Handling says.
                if (group is null && (f.RetainHandling == MqttRetainHandling.SendAtSubscribe ||
                    (f.RetainHandling == MqttRetainHandling.SendAtSubscribeIfNewSubscriptionOnly && isNew)))
                {
                    foreach (var (topic, (message, expiresAt)) in _retained)
                    {
                        if (expiresAt != 0 && expiresAt <= now) continue;
                        if (!MqttTopicFilter.Matches(filter, topic)) continue;
                        var qos = (MqttQualityOfServiceLevel)Math.Min((int)f.QualityOfServiceLevel, (int)message.QualityOfServiceLevel);
                        var ids = subscription.SubscriptionId != 0 ? new List<uint> { subscription.SubscriptionId } : null;
                        retained.Add(new MqttCoreDelivery(message, qos, true, ids, null, expiresAt));
                    }
                }
            }
            ack.ReasonCodes.Add((MqttSubscribeReasonCode)(int)f.QualityOfServiceLevel);
        }
        SessionWrite? persist;
        lock (_routing) persist = PersistSubscriptionsLocked(session);
        // Written before the SUBACK (as MQTTnet's tracker does): an acknowledged subscription survives a kill.
        Write(persist);
        return ack;
    }

    internal MqttUnsubAckPacket Unsubscribe(MqttCoreConnection connection, MqttUnsubscribePacket unsubscribe)
    {
        var session = connection.Session!;
        var ack = new MqttUnsubAckPacket { PacketIdentifier = unsubscribe.PacketIdentifier, ReasonCodes = [] };
        SessionWrite? persist;
        lock (_routing)
        {
            foreach (var filter in unsubscribe.TopicFilters)
            {
                if (session.Subscriptions.Remove(filter, out var subscription))
                {
                    _trie.Remove(session, subscription.Filter, subscription.Group);
                    ack.ReasonCodes.Add(MqttUnsubscribeReasonCode.Success);
                }
                else ack.ReasonCodes.Add(MqttUnsubscribeReasonCode.NoSubscriptionExisted);
            }
            persist = PersistSubscriptionsLocked(session);
        }
        Write(persist);
        return ack;
    }

    // ---- bookkeeping -----------------------------------------------------------------------

    /// <summary>Keep alive (§3.1.2.10: 1.5 times the interval without a packet closes it, will published), the CONNECT/AUTH handshake deadline and session expiry.</summary>
    private void Sweep()
    {
        CheckpointTick();
        var now = Environment.TickCount64;
        foreach (var connection in _connections.Keys)
        {
            if (MqttKeepAlive.IsExpired(connection.KeepAliveSeconds, now - connection.LastPacketMs)) connection.Abort("MQTT keep alive expired");
            // Not yet CONNACKed or re-authenticating past the deadline: an exchange must not hold a connection open.
            else if (connection.IsHandshakeOverdue(now))
            {
                CountViolation(connection, "CONNECT or authentication not completed in time");
                connection.Abort("MQTT handshake not completed in time");
            }
        }
        List<string>? expired = null;
        lock (_routing)
        {
            foreach (var session in _sessions.Values)
            {
                if (session.IsConnected || !session.IsExpired(now)) continue;
                (expired ??= []).Add(session.ClientId);
            }
            if (expired is null) return;
            foreach (var id in expired) RemoveLocked(_sessions[id]);
        }
        foreach (var id in expired) MqttCoreLog.SessionExpired(_logger, id);
    }

    internal void CountViolation(MqttCoreConnection connection, string reason)
    {
        Interlocked.Increment(ref _closed);
        if (_closeLog.TryEnter(out var suppressed))
            MqttConnectionGuard.Log.ConnectionClosed(_logger, connection.RemoteEndPoint, connection.ClientId ?? "-", reason, _limits.MaxPacketBytes, _limits.MaxInflight, suppressed);
    }

    internal void CountTooLarge(MqttCoreConnection connection, int size, uint maximum)
    {
        MqttMetrics.Drop("too_large_for_client");
        MqttCoreLog.TooLargeForClient(_logger, connection.ClientId ?? "-", size, maximum);
    }

    internal static void CountExpired(int count)
    {
        for (var i = 0; i < count; i++) MqttMetrics.Drop("expired");
    }
}
