using System.Net;
using EdgeStream.Mesh.Gossip;

namespace EdgeStream.Mesh.Membership;

// Applying membership updates: SWIM's incarnation rules, suspicion, refutation.
public sealed partial class SwimMembership
{
    private long _lastRefuteFanout = long.MinValue;

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
            foreach (var update in message.Updates) Apply(update);
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
            return;
        }
        e.Incarnation = incarnation;
        SetState(e, MemberState.Suspect);
        StartSuspicion(e, from);
        if (declaredHere) Interlocked.Increment(ref Stats.SuspicionsCount);
        Broadcast(MemberUpdate.Suspect(nodeId, incarnation, from));
        MembershipLog.MemberSuspected(_logger, _options.Scope, nodeId, incarnation, from);
        Raise(e, MemberChangeKind.Suspected, MemberState.Alive, declaredHere);
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
        if (_lastRefuteFanout != long.MinValue && _time.GetElapsedTime(_lastRefuteFanout, now) < _options.ProbeInterval) return;
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
