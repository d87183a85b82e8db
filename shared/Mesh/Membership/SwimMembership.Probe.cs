using System.Net;
using EdgeStream.Mesh.Gossip;

namespace EdgeStream.Mesh.Membership;

// The probe round: ping, indirect ping through k helpers, verdict; Lifeguard's local health.
public sealed partial class SwimMembership
{
    private readonly List<MemberEntry> _probeOrder = [];
    private readonly Dictionary<uint, Relay> _relays = [];
    private ITimer? _probeTimer;
    private int _probeIndex;
    private uint _sequence;
    private ProbeRound? _probe;
    private bool _awaitingDirectAck;
    private int _health;

    /// <summary>
    /// One timer, two phases per round: at the start the previous round gets its verdict and a ping
    /// goes out; at the probe timeout, if no ack came, helpers are asked to probe indirectly. Both
    /// delays are multiplied by the local health score + 1 (Lifeguard: a node that misses acks is
    /// more likely slow itself than surrounded by dead members, so it slows down instead of accusing).
    /// </summary>
    private void OnProbeTimer()
    {
        lock (_gate)
        {
            if (_stopped || _leaving || _probeTimer is null) return;
            if (_awaitingDirectAck)
            {
                _awaitingDirectAck = false;
                var round = _probe!;
                if (!round.Acked) SendIndirectProbes(round);
                _probeTimer.Change(round.Interval - round.Timeout, Timeout.InfiniteTimeSpan);
                return;
            }
            FinishRound();
            var scale = _health + 1;
            var interval = _options.ProbeInterval * scale;
            var target = NextProbeTarget();
            if (target is null)
            {
                _probeTimer.Change(interval, Timeout.InfiniteTimeSpan);
                return;
            }
            var timeout = _options.ProbeTimeout * scale;
            _probe = new ProbeRound(NextSequence(), target, target.Incarnation, interval, timeout, _time.GetTimestamp());
            Interlocked.Increment(ref Stats.ProbesCount);
            SendPing(target.NodeId, target.Metadata.GossipEndPoint, _probe.Sequence);
            _awaitingDirectAck = true;
            _probeTimer.Change(timeout, Timeout.InfiniteTimeSpan);
        }
        DispatchEvents();
    }

    private void FinishRound()
    {
        var round = _probe;
        _probe = null;
        if (round is null) return;
        if (round.Acked)
        {
            AdjustHealth(-1);
            return;
        }
        Interlocked.Increment(ref Stats.ProbesFailedCount);
        // Our own timer ran far late: this node was not running (GC pause, suspended VM), so the
        // missing ack says nothing about the target. Count it against our health, accuse no one.
        if (_time.GetElapsedTime(round.Start) > round.Interval * 2)
        {
            AdjustHealth(1);
            return;
        }
        // Lifeguard: helpers that are alive answer with a nack when the target does not. Missing
        // nacks mean our own messages are getting lost, so our health score rises by their count.
        AdjustHealth(round.ExpectedNacks > 0 ? round.ExpectedNacks - round.Nacks : 1);
        var target = round.Target;
        if (!_members.TryGetValue(target.NodeId, out var current) || current != target || !target.IsLive || target.Incarnation != round.Incarnation) return;
        ApplySuspect(target.NodeId, target.Incarnation, _options.NodeId, declaredHere: true);
    }

    private void AdjustHealth(int delta)
    {
        if (delta == 0) return;
        var before = _health;
        _health = Math.Clamp(_health + delta, 0, _options.MaxHealthMultiplier - 1);
        if (_health == before) return;
        if (_health == _options.MaxHealthMultiplier - 1)
            MembershipLog.HealthDegraded(_logger, _options.Scope, _health, (long)(_options.ProbeInterval * (_health + 1)).TotalMilliseconds, (long)_options.ProbeInterval.TotalMilliseconds);
        else if (_health == 0 && before > 0)
            MembershipLog.HealthRecovered(_logger, _options.Scope);
    }

    /// <summary>Round-robin over a shuffled list of live members, reshuffled at the end of each pass (SWIM §4.3).</summary>
    private MemberEntry? NextProbeTarget()
    {
        for (var pass = 0; pass < 2; pass++)
        {
            while (_probeIndex < _probeOrder.Count)
            {
                var e = _probeOrder[_probeIndex++];
                if (e.IsLive && _members.TryGetValue(e.NodeId, out var current) && current == e) return e;
            }
            _probeOrder.Clear();
            foreach (var e in _memberList)
                if (e.IsLive) _probeOrder.Add(e);
            for (var i = _probeOrder.Count - 1; i > 0; i--)
            {
                var j = _random.Next(i + 1);
                (_probeOrder[i], _probeOrder[j]) = (_probeOrder[j], _probeOrder[i]);
            }
            _probeIndex = 0;
            if (_probeOrder.Count == 0) return null;
        }
        return null;
    }

    /// <summary>A new (or returning) member goes to a random place in the rest of this pass, so it is probed within it.</summary>
    private void AddToProbeOrder(MemberEntry e) => _probeOrder.Insert(_random.Next(_probeIndex, _probeOrder.Count + 1), e);

    private uint NextSequence() => ++_sequence;

    /// <summary>
    /// Pings <paramref name="targetId"/>. Lifeguard's buddy system: when we hold the target as suspect,
    /// the suspicion rides first in the ping, so the member hears it (and refutes) at once instead
    /// of waiting for gossip to reach it.
    /// </summary>
    private void SendPing(string targetId, IPEndPoint to, uint sequence)
    {
        _datagram.Begin(_codec, GossipMessageType.Ping, _options.NodeId, sequence, targetId);
        if (_members.TryGetValue(targetId, out var e) && e.State == MemberState.Suspect)
            _datagram.TryAppend(GossipCodec.EncodeUpdate(MemberUpdate.Suspect(targetId, e.Incarnation, _options.NodeId)));
        _broadcasts.Fill(_datagram, RetransmitLimit());
        Send(to);
    }

    private void SendReply(GossipMessageType type, uint sequence, IPEndPoint to)
    {
        _datagram.Begin(_codec, type, _options.NodeId, sequence);
        _broadcasts.Fill(_datagram, RetransmitLimit());
        Send(to);
    }

    private void SendIndirectProbes(ProbeRound round)
    {
        var helpers = new List<MemberEntry>();
        foreach (var e in _memberList)
            if (e.State == MemberState.Alive && e != round.Target) helpers.Add(e);
        var k = Math.Min(_options.IndirectChecks, helpers.Count);
        for (var i = 0; i < k; i++)
        {
            var j = _random.Next(i, helpers.Count);
            (helpers[i], helpers[j]) = (helpers[j], helpers[i]);
            _datagram.Begin(_codec, GossipMessageType.PingReq, _options.NodeId, round.Sequence, round.Target.NodeId, round.Target.Metadata.GossipEndPoint);
            _broadcasts.Fill(_datagram, RetransmitLimit());
            Send(helpers[i].Metadata.GossipEndPoint);
        }
        round.ExpectedNacks = k;
        if (k > 0) Interlocked.Increment(ref Stats.IndirectProbesCount);
    }

    private void OnPing(IPEndPoint from, GossipDatagram message)
    {
        // Meant for whoever had this address before us (a restart with a new id): stay silent, so
        // the prober's verdict is about that node, not us.
        if (message.Target != _options.NodeId)
        {
            Interlocked.Increment(ref Stats.MisdirectedCount);
            return;
        }
        SendReply(GossipMessageType.Ack, message.Sequence, from);
    }

    /// <summary>Helper side of an indirect probe: ping the target, relay its ack, or nack at 80 % of our timeout.</summary>
    private void OnPingReq(IPEndPoint from, GossipDatagram message)
    {
        if (_leaving) return;
        var sequence = NextSequence();
        var relay = new Relay(from, message.Sequence);
        _relays[sequence] = relay;
        SendPing(message.Target!, message.TargetEndPoint!, sequence);
        var scale = _health + 1;
        relay.Timer = _time.CreateTimer(static s => ((RelayTimerState)s!).Fire(), new RelayTimerState(this, sequence, relay), _options.ProbeTimeout * scale * 0.8, Timeout.InfiniteTimeSpan);
    }

    private void OnRelayTimer(uint sequence, Relay relay)
    {
        lock (_gate)
        {
            if (_stopped || !_relays.TryGetValue(sequence, out var current) || current != relay) return;
            if (!relay.NackSent)
            {
                relay.NackSent = true;
                SendReply(GossipMessageType.Nack, relay.RequesterSequence, relay.Requester);
                // A late ack is still worth relaying until the requester's round is over.
                relay.Timer?.Change(_options.ProbeInterval * (_health + 1), Timeout.InfiniteTimeSpan);
                return;
            }
            _relays.Remove(sequence);
            relay.Timer?.Dispose();
        }
    }

    private void OnAck(uint sequence)
    {
        if (_probe is { } round && round.Sequence == sequence)
        {
            round.Acked = true;
            return;
        }
        if (_relays.Remove(sequence, out var relay))
        {
            relay.Timer?.Dispose();
            SendReply(GossipMessageType.Ack, relay.RequesterSequence, relay.Requester);
        }
    }

    private void OnNack(uint sequence)
    {
        if (_probe is { } round && round.Sequence == sequence) round.Nacks++;
    }

    private sealed class ProbeRound(uint sequence, MemberEntry target, long incarnation, TimeSpan interval, TimeSpan timeout, long start)
    {
        public uint Sequence { get; } = sequence;
        public MemberEntry Target { get; } = target;
        public long Incarnation { get; } = incarnation;
        public TimeSpan Interval { get; } = interval;
        public TimeSpan Timeout { get; } = timeout;
        public long Start { get; } = start;
        public bool Acked { get; set; }
        public int ExpectedNacks { get; set; }
        public int Nacks { get; set; }
    }

    private sealed class Relay(IPEndPoint requester, uint requesterSequence)
    {
        public IPEndPoint Requester { get; } = requester;
        public uint RequesterSequence { get; } = requesterSequence;
        public ITimer? Timer { get; set; }
        public bool NackSent { get; set; }
    }

    private sealed class RelayTimerState(SwimMembership owner, uint sequence, Relay relay)
    {
        public void Fire() => owner.OnRelayTimer(sequence, relay);
    }
}
