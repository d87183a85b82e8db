using System.Net;
using EdgeStream.Mesh.Gossip;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeStream.Mesh.Membership;

/// <summary>
/// One membership scope run with SWIM (Das, Gupta, Motivala 2002) and Lifeguard's refinements
/// (Dadgar et al. 2018): a probe per round, indirect probes through k helpers, suspicion before
/// death with incarnation numbers and refutation, updates piggybacked on probe traffic, and a
/// periodic full-state push-pull over the stream exchange that heals partitions.
/// <para>
/// Driven entirely by timers of the given <see cref="TimeProvider"/> and by the transport's
/// callbacks, all under one lock; no thread of its own. With a simulated clock and network the
/// whole engine is deterministic under a seed. <see cref="MemberChanged"/> is raised outside the
/// lock, in order. Disposing the instance disposes the transport.
/// </para>
/// </summary>
public sealed partial class SwimMembership : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly object _eventGate = new();
    private readonly MembershipOptions _options;
    private readonly IGossipTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GossipCodec _codec;
    private readonly Random _random;
    private readonly DatagramBuilder _datagram = new();
    private readonly BroadcastQueue _broadcasts = new();
    private readonly Dictionary<string, MemberEntry> _members = new(StringComparer.Ordinal);
    // The same entries in the order they joined: every walk over members goes through this list,
    // because a dictionary's order follows string hash codes, which differ per process, and a
    // simulation must replay the same under the same seed.
    private readonly List<MemberEntry> _memberList = [];
    private readonly List<MemberChangedEventArgs> _pendingEvents = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Receiver _receiver;
    private MemberMetadata _localMetadata;
    private long _incarnation;
    private DateTimeOffset _localSince;
    private int _liveCount;
    private bool _started;
    private bool _leaving;
    private bool _stopped;

    public SwimMembership(MembershipOptions options, IGossipTransport transport, TimeProvider? timeProvider = null, ILogger<SwimMembership>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(transport);
        options.Validate();
        _options = options;
        _transport = transport;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _codec = new GossipCodec(options.ClusterName, options.Scope);
        _random = options.RandomSeed is { } seed ? new Random(seed) : new Random();
        _receiver = new Receiver(this);
        _localMetadata = new MemberMetadata
        {
            Role = options.Role,
            UplinkAddress = options.UplinkAddress,
            GossipEndPoint = options.AdvertiseEndPoint ?? transport.LocalEndPoint,
            Load = options.InitialLoad,
        };
        _localSince = _time.GetUtcNow();
    }

    /// <summary>
    /// A member changed state, joined, left or updated its metadata. Raised outside the engine's lock
    /// on the thread that caused the change (a timer or the transport's receive loop), one at a time,
    /// in order; a handler that blocks delays the next event, not the protocol.
    /// </summary>
    public event EventHandler<MemberChangedEventArgs>? MemberChanged;

    public string LocalNodeId => _options.NodeId;

    public string Scope => _options.Scope;

    public string ClusterName => _options.ClusterName;

    /// <summary>Where this node's gossip is reached (advertised).</summary>
    public IPEndPoint LocalEndPoint => _localMetadata.GossipEndPoint;

    public MembershipStats Stats { get; } = new();

    /// <summary>Lifeguard's local health score: 0 when healthy; probing slows by a factor of score + 1.</summary>
    public int HealthScore
    {
        get
        {
            lock (_gate) return _health;
        }
    }

    /// <summary>This node as the scope sees it.</summary>
    public Member Local
    {
        get
        {
            lock (_gate) return LocalSnapshot();
        }
    }

    /// <summary>All members known, this node first, then by node id; dead and left ones until <see cref="MembershipOptions.DeadMemberRetention"/>.</summary>
    public IReadOnlyList<Member> Members
    {
        get
        {
            lock (_gate)
            {
                var result = new Member[_members.Count + 1];
                result[0] = LocalSnapshot();
                var i = 1;
                foreach (var e in _memberList) result[i++] = Snapshot(e);
                Array.Sort(result, 1, result.Length - 1, MemberOrder.Instance);
                return result;
            }
        }
    }

    /// <summary>Alive and suspect members, this node included.</summary>
    public int LiveCount
    {
        get
        {
            lock (_gate) return _liveCount + 1;
        }
    }

    public bool TryGetMember(string nodeId, out Member member)
    {
        lock (_gate)
        {
            if (nodeId == _options.NodeId)
            {
                member = LocalSnapshot();
                return true;
            }
            if (_members.TryGetValue(nodeId, out var e))
            {
                member = Snapshot(e);
                return true;
            }
        }
        member = null!;
        return false;
    }

    /// <summary>Starts receiving, probing and push-pull. Idempotent; <see cref="JoinAsync"/> and <see cref="RunAsync"/> call it.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_started) return;
            _started = true;
            _transport.Start(_receiver);
            _broadcasts.Enqueue(_options.NodeId, GossipCodec.EncodeUpdate(MemberUpdate.Alive(_options.NodeId, _incarnation, _localMetadata)));
            // Random first offsets: members started together do not probe and push-pull in lockstep.
            _probeTimer = _time.CreateTimer(static s => ((SwimMembership)s!).OnProbeTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _probeTimer.Change(_options.ProbeInterval * _random.NextDouble(), Timeout.InfiniteTimeSpan);
            _pushPullTimer = _time.CreateTimer(static s => ((SwimMembership)s!).OnPushPullTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _pushPullTimer.Change(_options.PushPullInterval * _random.NextDouble(), Timeout.InfiniteTimeSpan);
            _reconnectTimer = _time.CreateTimer(static s => ((SwimMembership)s!).OnReconnectTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _reconnectTimer.Change(_options.ReconnectInterval * (0.5 + _random.NextDouble()), Timeout.InfiniteTimeSpan);
        }
        MembershipLog.Started(_logger, _options.Scope, _options.NodeId, _options.Role, LocalEndPoint, _options.ClusterName);
    }

    /// <summary>
    /// Joins the scope through <paramref name="seeds"/>: a push-pull with each (our own address is
    /// skipped). Returns how many answered. The seeds are kept: while no other member is known, the
    /// periodic push-pull tries them again, so a node whose seeds were down joins when they come up.
    /// </summary>
    public async Task<int> JoinAsync(IEnumerable<IPEndPoint> seeds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        Start();
        var list = new List<IPEndPoint>();
        foreach (var seed in seeds)
            if (!seed.Equals(LocalEndPoint) && !seed.Equals(_transport.LocalEndPoint) && !list.Contains(seed)) list.Add(seed);
        lock (_gate) _seeds = list;
        var contacted = 0;
        foreach (var seed in list)
        {
            byte[] request;
            lock (_gate)
            {
                if (_stopped || _leaving) break;
                request = BuildState(join: true);
            }
            if (await PushPullAsync(seed, request, periodic: false, cancellationToken).ConfigureAwait(false)) contacted++;
        }
        if (list.Count > 0)
        {
            if (contacted > 0) MembershipLog.Joined(_logger, _options.Scope, contacted, list.Count, LiveCount);
            else MembershipLog.JoinFailed(_logger, _options.Scope, list.Count);
        }
        return contacted;
    }

    /// <summary>
    /// Leaves gracefully: stops probing, tells every live member directly, keeps answering probes
    /// for <see cref="MembershipOptions.LeavePropagationTime"/> (their acks carry the leave too), then
    /// stops. The instance cannot be used afterwards.
    /// </summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_started || _leaving || _stopped) return;
            _leaving = true;
            _probeTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _pushPullTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            var leave = GossipCodec.EncodeUpdate(MemberUpdate.Dead(_options.NodeId, _incarnation, _options.NodeId));
            _broadcasts.Enqueue(_options.NodeId, leave);
            SendToAllLive(leave);
        }
        MembershipLog.Left(_logger, _options.Scope);
        try
        {
            if (_options.LeavePropagationTime > TimeSpan.Zero)
                await Task.Delay(_options.LeavePropagationTime, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Asked to hurry: the direct sends above already went out.
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The whole life of a member, for a <c>BackgroundService.ExecuteAsync</c>: start, join through
    /// <paramref name="seeds"/> (none: wait to be joined, e.g. a seed itself), run until
    /// <paramref name="stoppingToken"/> fires, then leave gracefully.
    /// </summary>
    public async Task RunAsync(IReadOnlyList<IPEndPoint> seeds, CancellationToken stoppingToken)
    {
        Start();
        try
        {
            if (seeds.Count > 0) await JoinAsync(seeds, stoppingToken).ConfigureAwait(false);
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown: leave below.
        }
        await LeaveAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Changes what this node gossips about itself (uplink address, load): raises its incarnation so
    /// the new metadata overrides the old everywhere. No-op when nothing changed. Each call costs one
    /// update spread through the scope, so callers report load every few seconds, not per record.
    /// </summary>
    public void UpdateLocalMetadata(Func<MemberMetadata, MemberMetadata> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        lock (_gate)
        {
            var next = update(_localMetadata);
            if (next == _localMetadata) return;
            if (!GossipCodec.IsValidRole(next.Role)) throw new MeshException($"role '{next.Role}' is not 1-{GossipCodec.MaxRoleLength} printable ASCII characters");
            if (!GossipCodec.IsValidUplink(next.UplinkAddress)) throw new MeshException($"uplink address '{next.UplinkAddress}' is invalid");
            if (next.Load.BacklogBytes < 0 || next.Load.Children < 0 || next.Load.DiskFreeBytes < 0) throw new MeshException("load must not be negative");
            if (next.Parent.Length > 0 && !GossipCodec.IsValidName(next.Parent)) throw new MeshException($"parent '{next.Parent}' is not a node id");
            _localMetadata = next;
            if (_leaving || _stopped) return;
            _incarnation++;
            _broadcasts.Enqueue(_options.NodeId, GossipCodec.EncodeUpdate(MemberUpdate.Alive(_options.NodeId, _incarnation, _localMetadata)));
        }
    }

    /// <summary>Reports new load figures (see <see cref="UpdateLocalMetadata"/>).</summary>
    public void UpdateLoad(MemberLoad load) => UpdateLocalMetadata(m => m with { Load = load });

    /// <summary>Tells the scope which node is this member's parent now (empty for none); see <see cref="MemberMetadata.Parent"/>.</summary>
    public void UpdateParent(string? parentId) => UpdateLocalMetadata(m => m with { Parent = parentId ?? "" });

    /// <summary>Stops without leaving (others will detect the silence), and disposes the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_stopped) return;
            _stopped = true;
            _probeTimer?.Dispose();
            _pushPullTimer?.Dispose();
            _reconnectTimer?.Dispose();
            foreach (var e in _memberList) e.Suspicion?.Timer?.Dispose();
            foreach (var r in _relays.Values) r.Timer?.Dispose();
            _relays.Clear();
        }
        _stopping.Cancel();
        await _transport.DisposeAsync().ConfigureAwait(false);
    }

    // ---- state ----

    private Member LocalSnapshot() =>
        new(_options.NodeId, _leaving ? MemberState.Left : MemberState.Alive, _incarnation, _localMetadata, _localSince);

    private static Member Snapshot(MemberEntry e) => new(e.NodeId, e.State, e.Incarnation, e.Metadata, e.Since);

    private void SetState(MemberEntry e, MemberState state)
    {
        var wasLive = e.IsLive;
        e.State = state;
        e.Since = _time.GetUtcNow();
        if (wasLive != e.IsLive) _liveCount += e.IsLive ? 1 : -1;
    }

    /// <summary>SWIM's λ·log n: each member piggybacks an update this many times.</summary>
    private int RetransmitLimit() => _options.RetransmitMultiplier * Math.Max(1, (int)Math.Ceiling(Math.Log10(_liveCount + 2)));

    private void Broadcast(in MemberUpdate update) => _broadcasts.Enqueue(update.NodeId, GossipCodec.EncodeUpdate(update));

    private void Raise(MemberEntry e, MemberChangeKind kind, MemberState? previous, bool declaredHere)
    {
        // Nobody listening: no event objects (the simulations run thousands of members without handlers).
        if (MemberChanged is null) return;
        _pendingEvents.Add(new MemberChangedEventArgs(Snapshot(e), kind, previous, declaredHere));
    }

    /// <summary>Raises queued events outside <see cref="_gate"/>, one thread at a time, in order.</summary>
    private void DispatchEvents()
    {
        lock (_eventGate)
        {
            while (true)
            {
                MemberChangedEventArgs[] batch;
                lock (_gate)
                {
                    if (_pendingEvents.Count == 0) return;
                    batch = [.. _pendingEvents];
                    _pendingEvents.Clear();
                }
                foreach (var args in batch)
                {
                    try
                    {
                        MemberChanged?.Invoke(this, args);
                    }
                    catch (Exception ex)
                    {
                        MembershipLog.HandlerFailed(_logger, _options.Scope, ex);
                    }
                }
            }
        }
    }

    private void Send(IPEndPoint to)
    {
        Interlocked.Increment(ref Stats.DatagramsSentCount);
        Interlocked.Add(ref Stats.BytesSentCount, _datagram.Length);
        _transport.SendDatagram(to, _datagram.Datagram);
    }

    /// <summary>Sends <paramref name="update"/> alone in a gossip datagram to every live member (leave, refutation).</summary>
    private void SendToAllLive(byte[] update)
    {
        foreach (var e in _memberList)
        {
            if (!e.IsLive) continue;
            _datagram.Begin(_codec, GossipMessageType.Gossip, _options.NodeId, 0);
            _datagram.TryAppend(update);
            Send(e.Metadata.GossipEndPoint);
        }
    }

    private void Count(GossipDecodeStatus status, IPEndPoint from)
    {
        switch (status)
        {
            case GossipDecodeStatus.UnsupportedVersion: Interlocked.Increment(ref Stats.UnsupportedVersionCount); break;
            case GossipDecodeStatus.ForeignCluster: Interlocked.Increment(ref Stats.ForeignClusterCount); break;
            case GossipDecodeStatus.ForeignScope: Interlocked.Increment(ref Stats.ForeignScopeCount); break;
            case GossipDecodeStatus.UnknownType: Interlocked.Increment(ref Stats.UnknownTypeCount); break;
            default: Interlocked.Increment(ref Stats.MalformedCount); break;
        }
        MembershipLog.Dropped(_logger, _options.Scope, from, status);
    }

    private sealed class MemberEntry(string nodeId, long incarnation, MemberMetadata metadata, DateTimeOffset since)
    {
        public string NodeId { get; } = nodeId;
        public MemberState State { get; set; } = MemberState.Alive;
        public long Incarnation { get; set; } = incarnation;
        public MemberMetadata Metadata { get; set; } = metadata;
        public DateTimeOffset Since { get; set; } = since;
        public Suspicion? Suspicion { get; set; }
        public long LastNudge { get; set; } = long.MinValue;
        public bool IsLive => State is MemberState.Alive or MemberState.Suspect;
    }

    private sealed class MemberOrder : IComparer<Member>
    {
        public static readonly MemberOrder Instance = new();

        public int Compare(Member? x, Member? y) => string.CompareOrdinal(x?.NodeId, y?.NodeId);
    }

    /// <summary>The transport's view of the engine, kept off its public surface.</summary>
    private sealed class Receiver(SwimMembership owner) : IGossipReceiver
    {
        public void OnDatagram(IPEndPoint from, ReadOnlyMemory<byte> datagram) => owner.OnDatagram(from, datagram);

        public byte[]? OnExchange(IPEndPoint from, ReadOnlyMemory<byte> request) => owner.OnExchange(from, request);
    }
}
