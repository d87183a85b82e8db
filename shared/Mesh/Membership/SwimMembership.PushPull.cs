using System.Net;
using System.Net.Sockets;
using EdgeStream.Mesh.Gossip;

namespace EdgeStream.Mesh.Membership;

// Full-state push-pull over the stream exchange: joins, anti-entropy, partition healing.
public sealed partial class SwimMembership
{
    private ITimer? _pushPullTimer;
    private ITimer? _reconnectTimer;
    private IReadOnlyList<IPEndPoint> _seeds = [];
    private bool _pushPullRunning;
    private bool _reconnectRunning;

    private void OnPushPullTimer()
    {
        IPEndPoint? target;
        byte[] request;
        lock (_gate)
        {
            if (_stopped || _leaving || _pushPullTimer is null) return;
            ReapDeadMembers();
            target = _pushPullRunning ? null : PickPushPullTarget();
            _pushPullTimer.Change(NextPushPullDelay(), Timeout.InfiniteTimeSpan);
            if (target is null) return;
            request = BuildState(join: false);
            _pushPullRunning = true;
        }
        _ = PushPullAsync(target, request, periodic: true, CancellationToken.None);
    }

    /// <summary>One push-pull with a random dead member (see <see cref="MembershipOptions.ReconnectInterval"/>); jittered ±50 %.</summary>
    private void OnReconnectTimer()
    {
        IPEndPoint? target = null;
        byte[] request;
        lock (_gate)
        {
            if (_stopped || _leaving || _reconnectTimer is null) return;
            _reconnectTimer.Change(_options.ReconnectInterval * (0.5 + _random.NextDouble()), Timeout.InfiniteTimeSpan);
            if (_reconnectRunning) return;
            var dead = 0;
            foreach (var e in _memberList)
            {
                // Reservoir pick: one random dead member in one pass, no list.
                if (e.State == MemberState.Dead && _random.Next(++dead) == 0) target = e.Metadata.GossipEndPoint;
            }
            if (target is null) return;
            request = BuildState(join: false);
            _reconnectRunning = true;
        }
        _ = ReconnectAsync(target, request);
    }

    private async Task ReconnectAsync(IPEndPoint target, byte[] request)
    {
        try { await PushPullAsync(target, request, periodic: false, CancellationToken.None).ConfigureAwait(false); }
        finally
        {
            lock (_gate) _reconnectRunning = false;
        }
    }

    /// <summary>
    /// The period grows with ⌈log2(n/32)⌉ + 1 above 32 members (a state costs O(n) bytes, so the
    /// per-member push-pull bandwidth stays roughly flat); a node that knows no live member and has
    /// seeds retries every few seconds instead, which is how it joins once its seeds come up.
    /// </summary>
    private TimeSpan NextPushPullDelay()
    {
        var interval = _options.PushPullInterval;
        if (_liveCount == 0 && _seeds.Count > 0) return interval < TimeSpan.FromSeconds(5) ? interval : TimeSpan.FromSeconds(5);
        var n = _liveCount + 1;
        return n <= 32 ? interval : interval * (Math.Ceiling(Math.Log2(n / 32.0)) + 1);
    }

    /// <summary>
    /// A random live member, or a dead one that was not seen leaving: after a partition each side
    /// holds the other as dead, and only an exchange across it (which makes both sides refute) merges
    /// them back. With nobody live, a seed.
    /// </summary>
    private IPEndPoint? PickPushPullTarget()
    {
        if (_liveCount == 0 && _seeds.Count > 0) return _seeds[_random.Next(_seeds.Count)];
        var candidates = new List<MemberEntry>();
        foreach (var e in _memberList)
            if (e.State != MemberState.Left) candidates.Add(e);
        return candidates.Count == 0 ? null : candidates[_random.Next(candidates.Count)].Metadata.GossipEndPoint;
    }

    private void ReapDeadMembers()
    {
        var now = _time.GetUtcNow();
        List<string>? expired = null;
        foreach (var e in _memberList)
            if (!e.IsLive && now - e.Since >= _options.DeadMemberRetention) (expired ??= []).Add(e.NodeId);
        if (expired is null) return;
        foreach (var id in expired) _members.Remove(id);
        _memberList.RemoveAll(e => !_members.TryGetValue(e.NodeId, out var current) || current != e);
    }

    private byte[] BuildState(bool join)
    {
        var records = new List<MemberRecord>(_members.Count + 1)
        {
            new(_options.NodeId, _incarnation, _leaving ? MemberState.Left : MemberState.Alive, _localMetadata),
        };
        foreach (var e in _memberList) records.Add(new MemberRecord(e.NodeId, e.Incarnation, e.State, e.Metadata));
        return _codec.EncodePushPull(_options.NodeId, join, records);
    }

    private async Task<bool> PushPullAsync(IPEndPoint target, byte[] request, bool periodic, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        try
        {
            var reply = await _transport.ExchangeAsync(target, request, _options.ExchangeTimeout, linked.Token).ConfigureAwait(false);
            // Counted once answered: an attempt at a member that is down (refused, unanswered) carries no payload.
            Interlocked.Add(ref Stats.ExchangeBytesSentCount, request.Length);
            Interlocked.Add(ref Stats.ExchangeBytesReceivedCount, reply.Length);
            var state = new PushPullState();
            var status = _codec.TryDecodePushPull(reply, _options.MaxMembers, state);
            if (status != GossipDecodeStatus.Ok)
            {
                Count(status, target);
                Interlocked.Increment(ref Stats.PushPullFailuresCount);
                return false;
            }
            lock (_gate)
            {
                if (_stopped) return false;
                Merge(state);
            }
            Interlocked.Increment(ref Stats.PushPullsCount);
            return true;
        }
        catch (Exception ex) when (ex is MeshException or OperationCanceledException or SocketException or IOException)
        {
            Interlocked.Increment(ref Stats.PushPullFailuresCount);
            MembershipLog.PushPullFailed(_logger, _options.Scope, target, ex.Message);
            return false;
        }
        finally
        {
            if (periodic)
            {
                lock (_gate) _pushPullRunning = false;
            }
            DispatchEvents();
        }
    }

    private byte[]? OnExchange(IPEndPoint from, ReadOnlyMemory<byte> request)
    {
        Interlocked.Add(ref Stats.ExchangeBytesReceivedCount, request.Length);
        var state = new PushPullState();
        var status = _codec.TryDecodePushPull(request, _options.MaxMembers, state);
        if (status != GossipDecodeStatus.Ok)
        {
            Count(status, from);
            return null;
        }
        byte[] reply;
        lock (_gate)
        {
            if (_stopped) return null;
            Merge(state);
            reply = BuildState(join: false);
        }
        Interlocked.Increment(ref Stats.PushPullsCount);
        Interlocked.Add(ref Stats.ExchangeBytesSentCount, reply.Length);
        DispatchEvents();
        return reply;
    }

    /// <summary>
    /// Merges a remote state as if its entries were gossip, with one softening: a remote "dead" is
    /// taken as a suspicion (the member may simply have been on the other side of a partition, and
    /// now gets to refute), as memberlist does.
    /// </summary>
    private void Merge(PushPullState state)
    {
        foreach (var r in state.Members)
        {
            switch (r.State)
            {
                case MemberState.Alive:
                    ApplyAlive(r.NodeId, r.Incarnation, r.Metadata);
                    break;
                case MemberState.Suspect or MemberState.Dead:
                    // A live member we have never heard of comes in as alive first, so a joiner learns
                    // of suspects too; dead ones we do not know stay unknown (re-adding them would
                    // restart their retention on every exchange and they would never be reaped).
                    if (r.State == MemberState.Suspect && r.NodeId != _options.NodeId && !_members.ContainsKey(r.NodeId))
                        ApplyAlive(r.NodeId, r.Incarnation, r.Metadata);
                    // The sender holds a verdict, it did not witness a failed probe: it may start a
                    // suspicion here, never count as a confirmation of one already running.
                    if (r.NodeId == _options.NodeId || !_members.TryGetValue(r.NodeId, out var known) || known.State != MemberState.Suspect)
                        ApplySuspect(r.NodeId, r.Incarnation, state.From, declaredHere: false);
                    break;
                case MemberState.Left:
                    ApplyDead(r.NodeId, r.Incarnation, r.NodeId, declaredHere: false);
                    break;
            }
        }
    }
}
