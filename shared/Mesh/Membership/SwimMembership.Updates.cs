using System.Net;
using EdgeStream.Mesh.Gossip;

namespace EdgeStream.Mesh.Membership;

// Applying membership updates: SWIM's incarnation rules, suspicion, refutation.
public sealed partial class SwimMembership
{
    private long _lastRefuteFanout = long.MinValue;
    private long _lastStaleCorrection = long.MinValue;

    private void OnDatagram(IPEndPoint from, ReadOnlyMemory<byte> datagram)
    {
        Interlocked.Increment(ref Stats.DatagramsReceivedCount);
        Interlocked.Add(ref Stats.BytesReceivedCount, datagram.Length);
        var message = new GossipDatagram();
        var status = _codec.TryDecodeDatagram(datagram, message);
        if (status != GossipDecodeStatus.Ok)
        {
            Count(status, from);
            return;
        }
        if (message.UnknownUpdates > 0) Interlocked.Add(ref Stats.UnknownUpdatesCount, message.UnknownUpdates);
        lock (_gate)
        {
            if (_stopped) return;
            // Updates first: an ack then carries whatever they changed (a refutation above all).
            var staleAboutUs = false;
            foreach (var update in message.Updates)
            {
                if (update.NodeId == _options.NodeId && update.Kind != MemberUpdateKind.Alive && update.Incarnation < _incarnation) staleAboutUs = true;
                Apply(update);
            }
            CorrectStaleViews(from, message.From, staleAboutUs);
            switch (message.Type)
            {
                case GossipMessageType.Ping:
                    OnPing(from, message);
                    break;
                case GossipMessageType.PingReq:
                    OnPingReq(from, message);
                    break;
                case GossipMessageType.Ack:
                    OnAck(message.Sequence);
                    break;
                case GossipMessageType.Nack:
                    OnNack(message.Sequence);
                    break;
            }
        }
        DispatchEvents();
    }

    /// <summary>
    /// Repairs disagreement that gossip missed (it retransmits each update a bounded number of
    /// times, and under heavy loss some members miss a refutation). A sender we hold as dead is
    /// evidently running: we tell it, so it refutes. A sender that spreads an old suspicion or death
    /// about us missed our refutation: we send it our current incarnation. At most once a second
    /// per peer; both cost one datagram and only happen while views disagree.
    /// </summary>
    private void CorrectStaleViews(IPEndPoint from, string senderId, bool staleAboutUs)
    {
        if (_leaving) return;
        var now = _time.GetTimestamp();
        if (staleAboutUs && Since(_lastStaleCorrection, now) >= TimeSpan.FromSeconds(1))
        {
            _lastStaleCorrection = now;
            _datagram.Begin(_codec, GossipMessageType.Gossip, _options.NodeId, 0);
            _datagram.TryAppend(GossipCodec.EncodeUpdate(MemberUpdate.Alive(_options.NodeId, _incarnation, _localMetadata)));
            Send(from);
        }
        if (_members.TryGetValue(senderId, out var sender) && sender.State == MemberState.Dead
            && Since(sender.LastNudge, now) >= TimeSpan.FromSeconds(1))
        {
            sender.LastNudge = now;
            _datagram.Begin(_codec, GossipMessageType.Gossip, _options.NodeId, 0);
            _datagram.TryAppend(GossipCodec.EncodeUpdate(MemberUpdate.Dead(sender.NodeId, sender.Incarnation, _options.NodeId)));
            Send(from);
        }
    }

    /// <summary>Time since a timestamp; <see cref="long.MinValue"/> means never.</summary>
    private TimeSpan Since(long timestamp, long now) => timestamp == long.MinValue ? TimeSpan.MaxValue : _time.GetElapsedTime(timestamp, now);

    private void Apply(in MemberUpdate update)
    {
        switch (update.Kind)
        {
            case MemberUpdateKind.Alive:
                ApplyAlive(update.NodeId, update.Incarnation, update.Metadata!);
                break;
            case MemberUpdateKind.Suspect:
                ApplySuspect(update.NodeId, update.Incarnation, update.From!, declaredHere: false);
                break;
            case MemberUpdateKind.Dead:
                ApplyDead(update.NodeId, update.Incarnation, update.From!, declaredHere: false);
                break;
        }
    }

    /// <summary>alive(node, i): news only when i is higher than what we hold (or the member is new).</summary>
    private void ApplyAlive(string nodeId, long incarnation, MemberMetadata metadata)
    {
        if (nodeId == _options.NodeId)
        {
            // Someone holds a newer or different picture of us: stale state from before a restart,
            // or a forgery. Only we speak for ourselves, so we outbid it.
            if (!_leaving && (incarnation > _incarnation || (incarnation == _incarnation && metadata != _localMetadata)))
                Refute(incarnation, "stale alive state", "gossip");
            return;
        }
        if (!_members.TryGetValue(nodeId, out var e))
        {
            if (_members.Count + 1 >= _options.MaxMembers) return;
            e = new MemberEntry(nodeId, incarnation, metadata, _time.GetUtcNow());
            _members.Add(nodeId, e);
            _memberList.Add(e);
            _liveCount++;
            AddToProbeOrder(e);
            Broadcast(MemberUpdate.Alive(nodeId, incarnation, metadata));
            MembershipLog.MemberJoined(_logger, _options.Scope, nodeId, metadata.Role, metadata.GossipEndPoint);
            Raise(e, MemberChangeKind.Joined, null, declaredHere: false);
            return;
        }
        if (incarnation <= e.Incarnation) return;
        var previous = e.State;
        e.Incarnation = incarnation;
        e.Metadata = metadata;
        CancelSuspicion(e);
        Broadcast(MemberUpdate.Alive(nodeId, incarnation, metadata));
        if (previous == MemberState.Alive)
        {
            Raise(e, MemberChangeKind.Updated, previous, declaredHere: false);
            return;
        }
        SetState(e, MemberState.Alive);
        if (previous is MemberState.Dead or MemberState.Left) AddToProbeOrder(e);
        MembershipLog.MemberRecovered(_logger, _options.Scope, nodeId, incarnation, previous);
        Raise(e, MemberChangeKind.Recovered, previous, declaredHere: false);
    }

    /// <summary>suspect(node, i, from): starts a suspicion, or confirms a running one with a new witness.</summary>
    private void ApplySuspect(string nodeId, long incarnation, string from, bool declaredHere)
    {
        if (nodeId == _options.NodeId)
        {
            if (!_leaving && incarnation >= _incarnation)
            {
                AdjustHealth(1);
                Refute(incarnation, "suspicion", from);
            }
            return;
        }
        if (!_members.TryGetValue(nodeId, out var e) || incarnation < e.Incarnation || !e.IsLive) return;
        if (e.State == MemberState.Suspect && e.Suspicion is { } running)
        {
            if (incarnation > e.Incarnation) e.Incarnation = incarnation;
            if (!running.Confirm(from)) return;
            // A new independent witness: the timeout shrinks, and others should count it too.
            RescheduleSuspicion(e, running);
            Broadcast(MemberUpdate.Suspect(nodeId, e.Incarnation, from));
            if (declaredHere) TellSuspect(e);
            return;
        }
        e.Incarnation = incarnation;
        SetState(e, MemberState.Suspect);
        StartSuspicion(e, from);
        Broadcast(MemberUpdate.Suspect(nodeId, incarnation, from));
        if (declaredHere)
        {
            Interlocked.Increment(ref Stats.SuspicionsCount);
            TellSuspect(e);
        }
        MembershipLog.MemberSuspected(_logger, _options.Scope, nodeId, incarnation, from);
        Raise(e, MemberChangeKind.Suspected, MemberState.Alive, declaredHere);
    }

    /// <summary>
    /// Buddy system: a member we just accused hears it from us at once, in a datagram of its own,
    /// rather than when gossip or our next ping happens to reach it; if it is alive it refutes
    /// within a round trip. Under loss this is most of what keeps live members from being declared dead.
    /// </summary>
    private void TellSuspect(MemberEntry e)
    {
        _datagram.Begin(_codec, GossipMessageType.Gossip, _options.NodeId, 0);
        _datagram.TryAppend(GossipCodec.EncodeUpdate(MemberUpdate.Suspect(e.NodeId, e.Incarnation, _options.NodeId)));
        Send(e.Metadata.GossipEndPoint);
    }

    /// <summary>dead(node, i, from): declared dead (or left, when from is the node itself).</summary>
    private void ApplyDead(string nodeId, long incarnation, string from, bool declaredHere)
    {
        var leave = from == nodeId;
        if (nodeId == _options.NodeId)
        {
            if (!_leaving && incarnation >= _incarnation)
            {
                AdjustHealth(1);
                Refute(incarnation, leave ? "forged leave" : "death", from);
            }
            return;
        }
        if (!_members.TryGetValue(nodeId, out var e) || incarnation < e.Incarnation || !e.IsLive) return;
        if (!leave && incarnation > e.Incarnation)
        {
            // A verdict about an incarnation we never saw alive or suspected: it may be a forgery (or
            // we missed a refutation). Suspect instead, so the member gets its chance to refute.
            ApplySuspect(nodeId, incarnation, from, declaredHere: false);
            return;
        }
        var previous = e.State;
        e.Incarnation = incarnation;
        CancelSuspicion(e);
        SetState(e, leave ? MemberState.Left : MemberState.Dead);
        Broadcast(MemberUpdate.Dead(nodeId, incarnation, from));
        if (leave)
        {
            MembershipLog.MemberLeft(_logger, _options.Scope, nodeId);
            Raise(e, MemberChangeKind.Left, previous, declaredHere: false);
        }
        else
        {
            if (declaredHere) Interlocked.Increment(ref Stats.DeclaredDeadCount);
            MembershipLog.MemberFailed(_logger, _options.Scope, nodeId, from);
            Raise(e, MemberChangeKind.Failed, previous, declaredHere);
        }
    }

    /// <summary>
    /// Raises our incarnation above <paramref name="incarnation"/> and says so: queued for
    /// piggybacking and, at most once per probe interval, sent straight to every live member. The
    /// direct send is what lets a member that was paused (GC, swap) for nearly the minimum suspicion
    /// refute in time: gossip alone would need several rounds to reach the members whose timers run.
    /// </summary>
    private void Refute(long incarnation, string what, string from)
    {
        var old = _incarnation;
        _incarnation = Math.Min(Math.Max(_incarnation, incarnation) + 1, GossipCodec.MaxIncarnation + 1);
        Interlocked.Increment(ref Stats.RefutationsCount);
        MembershipLog.Refuted(_logger, _options.Scope, what, from, old, _incarnation);
        var update = GossipCodec.EncodeUpdate(MemberUpdate.Alive(_options.NodeId, _incarnation, _localMetadata));
        _broadcasts.Enqueue(_options.NodeId, update);
        var now = _time.GetTimestamp();
        if (Since(_lastRefuteFanout, now) < _options.ProbeInterval) return;
        _lastRefuteFanout = now;
        SendToAllLive(update);
    }

    private void StartSuspicion(MemberEntry e, string from)
    {
        // Lifeguard: expect up to K independent confirmations, fewer in a scope too small to give them
        // (n minus us minus the suspect); an unhealthy node also stretches its timeouts.
        var others = _liveCount - 1;
        var expected = others < _options.SuspicionConfirmations ? 0 : _options.SuspicionConfirmations;
        var scale = _health + 1;
        var suspicion = new Suspicion(from, expected, _options.SuspicionMinTimeout * scale, _options.SuspicionMaxTimeout * scale, _time.GetTimestamp());
        e.Suspicion = suspicion;
        suspicion.Timer = _time.CreateTimer(static s => ((SuspicionTimerState)s!).Fire(), new SuspicionTimerState(this, e, suspicion), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        RescheduleSuspicion(e, suspicion);
    }

    private void RescheduleSuspicion(MemberEntry e, Suspicion suspicion)
    {
        var remaining = suspicion.Timeout - _time.GetElapsedTime(suspicion.StartTimestamp);
        suspicion.Timer?.Change(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private static void CancelSuspicion(MemberEntry e)
    {
        e.Suspicion?.Timer?.Dispose();
        e.Suspicion = null;
    }

    private void OnSuspicionTimeout(MemberEntry e, Suspicion suspicion)
    {
        lock (_gate)
        {
            if (_stopped || e.Suspicion != suspicion || e.State != MemberState.Suspect) return;
            if (!_members.TryGetValue(e.NodeId, out var current) || current != e) return;
            ApplyDead(e.NodeId, e.Incarnation, _options.NodeId, declaredHere: true);
        }
        DispatchEvents();
    }

    private sealed class SuspicionTimerState(SwimMembership owner, MemberEntry entry, Suspicion suspicion)
    {
        public void Fire() => owner.OnSuspicionTimeout(entry, suspicion);
    }
}
