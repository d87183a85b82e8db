using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using EdgeStream.Mesh.Gossip;
using EdgeStream.Mesh.Discovery;
using EdgeStream.Mesh.Membership;
using EdgeStream.Mesh.ParentChoice;
using EdgeStream.Uplink.Receiving;
using EdgeStream.Uplink.Sending;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Mesh;

/// <summary>
/// The node's part in the mesh (see <see cref="MeshHosting.JoinMesh"/>): one <see cref="UdpGossipTransport"/>
/// on <c>--gossip</c> shared by the policy's scopes through a <see cref="ScopedGossipTransport"/>; mDNS
/// discovery (<c>--mdns</c>) whose peers of our cluster are joined into <c>site</c>; <c>--seeds</c> joined
/// into the upper scope; every <see cref="LoadInterval"/> the node's load; every <see cref="ChoiceInterval"/>
/// (and on each membership change) the parent: chosen by a <see cref="ParentTracker"/> and handed to the
/// uplink sender, or, with <c>--parent</c>, listed parents known dead reported to it.
/// </summary>
public sealed class MeshService : BackgroundService
{
    /// <summary>How often the load (backlog, children, disk free) is gossiped. Each report raises the incarnation.</summary>
    public static readonly TimeSpan LoadInterval = TimeSpan.FromSeconds(2);

    /// <summary>How often a node that knows no other member of its upper scope tries its seeds again.</summary>
    public static readonly TimeSpan SeedRetryInterval = TimeSpan.FromSeconds(2);

    /// <summary>How often the parent choice is re-evaluated without a membership change (the 30 s return).</summary>
    public static readonly TimeSpan ChoiceInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A child's first choice waits until no member has joined for this long (or <see cref="FirstChoiceLimit"/>
    /// has passed since the first candidate appeared): a node that has just started meets the mesh over a
    /// second or two, and a choice made on the first gateway heard of, before the others and the
    /// siblings are known, would stick (children do not move off a healthy parent).
    /// </summary>
    public static readonly TimeSpan FirstChoiceSettle = TimeSpan.FromSeconds(1);

    /// <summary>The longest a first choice waits for the view to settle.</summary>
    public static readonly TimeSpan FirstChoiceLimit = TimeSpan.FromSeconds(3);

    private readonly AgentOptions _options;
    private readonly NodeContext _node;
    private readonly MeshPolicy _policy;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly Dictionary<(string Scope, string Node), DateTimeOffset> _lastHeard = [];
    private readonly HashSet<string> _reportedDown = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IPEndPoint> _siteSeeds = [];
    private readonly string[] _listedParents;
    private volatile IPEndPoint[] _upperSeeds = [];
    private int _joining;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile SwimMembership[] _scopes = [];
    private ScopedGossipTransport? _mux;
    private EncryptedGossipTransport? _encrypted;
    private MdnsDiscovery? _mdns;
    private ParentTracker? _tracker;
    private UplinkForwarder? _forwarder;
    private volatile ParentInfo _parent = new(null, null, "no parent chosen yet", DateTimeOffset.UtcNow);
    private UplinkParent? _followed;
    private DateTimeOffset _lastJoin = DateTimeOffset.MinValue;
    private DateTimeOffset? _firstCandidateAt;

    public MeshService(AgentOptions options, NodeContext node, MeshPolicy policy, IServiceProvider services, ILoggerFactory loggers)
    {
        _options = options;
        _node = node;
        _policy = policy;
        _services = services;
        _loggers = loggers;
        _logger = loggers.CreateLogger<MeshService>();
        _listedParents = [.. options.Parents.Select(p => p.ToString())];
    }

    /// <summary>The scopes this node runs, once started.</summary>
    public IReadOnlyList<SwimMembership> Scopes => _scopes;

    /// <summary>The bound gossip address (the advertised one once resolved).</summary>
    public IPEndPoint? GossipEndPoint { get; private set; }

    /// <summary>The current parent: node id (null when unknown), uplink address, why, since when.</summary>
    public ParentInfo Parent => _parent;

    /// <summary>The encryption layer of gossip, null when the node has no <c>--gossip-key</c> (clear text).</summary>
    public EncryptedGossipTransport? Encryption => _encrypted;

    /// <summary>mDNS counters, null when <c>--mdns off</c> or the node runs no site scope.</summary>
    public MdnsCounters? MdnsCounters => _mdns?.Counters;

    /// <summary>When a message last changed what we know of <paramref name="node"/> in <paramref name="scope"/> (load reports every 2 s count).</summary>
    public DateTimeOffset LastHeard(string scope, string node, DateTimeOffset since)
    {
        if (node == _node.NodeId) return DateTimeOffset.UtcNow;
        lock (_lock) return _lastHeard.TryGetValue((scope, node), out var t) && t > since ? t : since;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var bind = BindAddress(_options.Gossip);
        IGossipTransport transport = new UdpGossipTransport(bind, _loggers.CreateLogger<UdpGossipTransport>());
        if (_options.GossipKeys.Count > 0)
        {
            // Sealed below the scopes: the scope a message names is inside the encrypted envelope.
            _encrypted = new EncryptedGossipTransport(transport, new GossipKeyring(_options.GossipKeys), _loggers.CreateLogger<EncryptedGossipTransport>());
            transport = _encrypted;
        }
        _mux = new ScopedGossipTransport(transport);
        var advertise = Advertised(transport.LocalEndPoint);
        GossipEndPoint = advertise;
        var uplink = _options.Uplink is { } u ? UplinkAddress(u, advertise.Address) : "";
        var scopes = new List<SwimMembership>();
        foreach (var scope in _policy.Scopes)
        {
            var membership = new SwimMembership(new MembershipOptions
            {
                NodeId = _node.NodeId,
                Role = _node.Role.ToText(),
                ClusterName = _options.Cluster,
                Scope = scope,
                UplinkAddress = uplink,
                AdvertiseEndPoint = advertise,
            }, _mux.For(scope), logger: _loggers.CreateLogger<SwimMembership>());
            membership.MemberChanged += OnMemberChanged;
            scopes.Add(membership);
        }
        _scopes = [.. scopes];
        _forwarder = _services.GetService<UplinkForwarder>();
        if (_policy.ParentRoles.Count > 0 && _options.Parents.Count == 0)
            _tracker = new ParentTracker(_node.NodeId, new ParentChoiceOptions { EligibleRoles = _policy.ParentRoles });
        if (_options.Parents.Count > 0) _parent = new ParentInfo(null, null, "operator's --parent list", DateTimeOffset.UtcNow);

        foreach (var m in scopes) m.Start();
        var encryption = _encrypted is null ? "clear text" : $"encrypted, {_encrypted.KeyCount} key{(_encrypted.KeyCount == 1 ? "" : "s")}";
        MeshLog.Started(_logger, _node.NodeId, string.Join("+", _policy.Scopes), advertise.ToString(), encryption, _options.Cluster,
            _options.Seeds.Count, _options.Mdns && _policy.Scopes.Contains(MeshPolicy.SiteScope) ? "on" : "off");
        _ = JoinSeedsAsync(stoppingToken);
        StartMdns(advertise, stoppingToken);

        var nextLoad = DateTimeOffset.MinValue;
        var nextSeedRetry = DateTimeOffset.UtcNow + SeedRetryInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var changed = Volatile.Read(ref _changed).Task;
                var now = DateTimeOffset.UtcNow;
                if (now >= nextLoad)
                {
                    nextLoad = now + LoadInterval;
                    ReportLoad();
                }
                EvaluateParent(now);
                if (now >= nextSeedRetry)
                {
                    // Alone with seeds (they started after us): try them again soon, not at the
                    // membership's first push-pull, which may be up to 30 s away.
                    nextSeedRetry = now + SeedRetryInterval;
                    if (_upperSeeds is { Length: > 0 } seeds && ScopeOf(_policy.UpperScope) is { LiveCount: <= 1 } upper) _ = JoinOnceAsync(upper, seeds);
                }
                try { await changed.WaitAsync(ChoiceInterval, stoppingToken).ConfigureAwait(false); }
                catch (TimeoutException) { }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (_mdns is { } mdns)
            {
                try { await mdns.StopAsync(CancellationToken.None).ConfigureAwait(false); }
                catch (Exception ex) { MeshLog.MdnsFailed(_logger, ex.Message); }
            }
            // Leave every scope together (each keeps answering probes for a second), then close the port.
            await Task.WhenAll(Array.ConvertAll(_scopes, m => m.LeaveAsync(CancellationToken.None))).ConfigureAwait(false);
            await _mux.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void OnMemberChanged(object? sender, MemberChangedEventArgs e)
    {
        var scope = ((SwimMembership)sender!).Scope;
        lock (_lock)
        {
            _lastHeard[(scope, e.Member.NodeId)] = DateTimeOffset.UtcNow;
            if (e.Kind == MemberChangeKind.Joined && scope == _policy.UpperScope) _lastJoin = DateTimeOffset.UtcNow;
        }
        if (e.Kind != MemberChangeKind.Updated || scope == _policy.UpperScope)
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private SwimMembership? ScopeOf(string name)
    {
        foreach (var m in _scopes)
            if (m.Scope == name) return m;
        return null;
    }

    // ---- joining ----

    private async Task JoinSeedsAsync(CancellationToken ct)
    {
        if (_options.Seeds.Count == 0 || ScopeOf(_policy.UpperScope) is not { } upper) return;
        var seeds = new List<IPEndPoint>();
        foreach (var seed in _options.Seeds)
        {
            try
            {
                if (IPAddress.TryParse(seed.Host, out var ip)) seeds.Add(new IPEndPoint(ip, seed.Port));
                else
                {
                    foreach (var a in await Dns.GetHostAddressesAsync(seed.Host, ct).ConfigureAwait(false))
                    {
                        seeds.Add(new IPEndPoint(a, seed.Port));
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or ArgumentException)
            {
                MeshLog.SeedUnresolved(_logger, seed.ToString(), ex.Message);
            }
        }
        if (upper.Scope == MeshPolicy.SiteScope)
        {
            lock (_lock) _siteSeeds.AddRange(seeds);
        }
        _upperSeeds = [.. seeds];
        await JoinOnceAsync(upper, _upperSeeds).ConfigureAwait(false);
    }

    /// <summary>One join at a time (the membership keeps the seeds for its own retries too).</summary>
    private async Task JoinOnceAsync(SwimMembership scope, IReadOnlyList<IPEndPoint> seeds)
    {
        if (Interlocked.Exchange(ref _joining, 1) == 1) return;
        try { await scope.JoinAsync(seeds).ConfigureAwait(false); }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException) { }
        finally { Volatile.Write(ref _joining, 0); }
    }

    private void StartMdns(IPEndPoint advertise, CancellationToken ct)
    {
        if (!_options.Mdns || ScopeOf(MeshPolicy.SiteScope) is null) return;
        try
        {
            _mdns = new MdnsDiscovery(new MdnsOptions
            {
                NodeId = _node.NodeId,
                Role = _node.Role.ToText(),
                Cluster = _options.Cluster,
                Port = _options.Uplink?.Port ?? advertise.Port,
                UplinkPort = _options.Uplink?.Port ?? 0,
                GossipPort = advertise.Port,
            }, _loggers.CreateLogger<MdnsDiscovery>());
            _mdns.PeerFound += OnPeer;
            _mdns.PeerUpdated += OnPeer;
            _ = _mdns.StartAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _mdns = null;
            MeshLog.MdnsFailed(_logger, ex.Message);
        }
    }

    /// <summary>A peer of our cluster on the LAN: join it into the site scope (with every other known site seed, so the membership keeps them all for retries).</summary>
    private void OnPeer(object? sender, DiscoveredPeer peer)
    {
        if (peer.Cluster != _options.Cluster || peer.GossipPort is <= 0 or > 65535 || peer.NodeId == _node.NodeId) return;
        if (ScopeOf(MeshPolicy.SiteScope) is not { } site || site.TryGetMember(peer.NodeId, out var known) && known.IsLive) return;
        IPAddress? address = null;
        foreach (var a in peer.Addresses)
        {
            if (a.AddressFamily == AddressFamily.InterNetwork) { address = a; break; }
            address ??= a;
        }
        if (address is null) return;
        List<IPEndPoint> seeds;
        lock (_lock)
        {
            var endPoint = new IPEndPoint(address, peer.GossipPort);
            if (!_siteSeeds.Contains(endPoint)) _siteSeeds.Add(endPoint);
            seeds = [.. _siteSeeds];
        }
        MeshLog.PeerDiscovered(_logger, peer.NodeId, peer.Role, address.ToString(), peer.GossipPort);
        _ = JoinQuietlyAsync(site, seeds);
    }

    private static async Task JoinQuietlyAsync(SwimMembership scope, List<IPEndPoint> seeds)
    {
        try { await scope.JoinAsync(seeds).ConfigureAwait(false); }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException) { }
    }

    // ---- load ----

    private void ReportLoad()
    {
        var load = CurrentLoad();
        foreach (var m in _scopes)
        {
            try { m.UpdateLoad(load); }
            catch (ObjectDisposedException) { }
        }
    }

    private MemberLoad CurrentLoad()
    {
        var storage = _services.GetService<StorageState>()?.Manager;
        long backlogBytes = 0;
        if (_services.GetService<UplinkStatus>() is { } sender && storage is not null)
        {
            // The sender counts records; bytes are estimated from the log's average record size.
            long backlog = 0, written = 0;
            foreach (var p in sender.Backlog)
            {
                backlog += p.Records;
                written += p.HighWatermark;
            }
            if (written > 0) backlogBytes = (long)(storage.UsedBytes * Math.Min(1.0, (double)backlog / written));
        }
        var children = (int)Math.Min(int.MaxValue, _services.GetService<UplinkReceiverStats>()?.ChildrenConnected ?? 0);
        long diskFree;
        try { diskFree = new DriveInfo(_options.DataDirectory).AvailableFreeSpace; }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException) { diskFree = 0; }
        if (_options.MaxDiskBytes > 0 && storage is not null) diskFree = Math.Min(diskFree, Math.Max(0, _options.MaxDiskBytes - storage.UsedBytes));
        return new MemberLoad(Math.Max(0, backlogBytes), children, Math.Max(0, diskFree));
    }

    // ---- parent ----

    private void EvaluateParent(DateTimeOffset now)
    {
        if (ScopeOf(_policy.UpperScope) is not { } upper) return;
        IReadOnlyList<Member> members;
        try { members = upper.Members; }
        catch (ObjectDisposedException) { return; }
        if (_options.Parents.Count > 0) ReportListedParentsDown(members);
        else if (_tracker is not null) ChooseParent(members, now);
    }

    private void ChooseParent(IReadOnlyList<Member> members, DateTimeOffset now)
    {
        var candidates = new List<ParentCandidate>(members.Count);
        var siblings = new List<SiblingChoice>();
        var role = _node.Role.ToText();
        foreach (var m in members)
        {
            if (m.NodeId == _node.NodeId) continue;
            candidates.Add(ParentCandidate.FromMember(m));
            // Children of our tier that are running: they share the parents, so they share the quotas.
            if (m.IsLive && string.Equals(m.Metadata.Role, role, StringComparison.Ordinal)) siblings.Add(new SiblingChoice(m.NodeId, m.Metadata.Parent));
        }
        var before = _tracker!.Current;
        if (before is null && !FirstChoiceSettled(candidates, now)) return;
        var decision = _tracker.Update(candidates, siblings, now);
        string? address = null;
        if (decision.ParentId is { } id)
        {
            foreach (var c in candidates)
                if (c.NodeId == id) address = c.UplinkAddress;
        }
        if (decision.Changed)
        {
            MeshLog.ParentChanged(_logger, before ?? "none", decision.ParentId ?? "none", decision.Reason);
            TellParent(decision.ParentId);
            _parent = new ParentInfo(decision.ParentId, string.IsNullOrEmpty(address) ? null : address, decision.Reason, now);
        }
        else if (_parent.Address != address && decision.ParentId is not null)
        {
            _parent = _parent with { Address = string.IsNullOrEmpty(address) ? null : address };
        }
        UplinkParent? target = null;
        if (!string.IsNullOrEmpty(address) && HostPort.TryParse(address, out var hp)) target = new UplinkParent(hp.Host, hp.Port);
        if (target != _followed && _forwarder is not null)
        {
            _followed = target;
            _forwarder.FollowParent(target);
        }
    }

    /// <summary>With <c>--parent</c>: a listed parent (by its advertised uplink address, or a host equal to its node id) held dead or left goes to the sender once.</summary>
    private void ReportListedParentsDown(IReadOnlyList<Member> members)
    {
        var current = _services.GetService<UplinkStatus>()?.CurrentParent;
        string? currentId = null;
        var statuses = ParentListHealth.Evaluate(_listedParents, members, _node.NodeId);
        for (var i = 0; i < statuses.Count; i++)
        {
            var status = statuses[i];
            if (status.NodeId is null) continue;
            if (status.Address == current) currentId = status.NodeId;
            if (status.KnownDead)
            {
                if (_reportedDown.Add(status.Address) && _forwarder is not null)
                {
                    MeshLog.ListedParentDown(_logger, status.Address, status.NodeId, status.State == MemberState.Dead ? "dead" : "left");
                    _forwarder.ParentDown(new UplinkParent(_options.Parents[i].Host, _options.Parents[i].Port));
                }
            }
            else _reportedDown.Remove(status.Address);
        }
        var p = _parent;
        if (p.Address != current || p.NodeId != currentId)
        {
            if (p.NodeId != currentId && (p.NodeId is not null || currentId is not null))
            {
                MeshLog.ParentChanged(_logger, p.NodeId ?? "none", currentId ?? "none", "operator's --parent list");
                TellParent(currentId);
            }
            _parent = new ParentInfo(currentId, current, "operator's --parent list", DateTimeOffset.UtcNow);
        }
    }

    private bool FirstChoiceSettled(List<ParentCandidate> candidates, DateTimeOffset now)
    {
        var any = false;
        foreach (var c in candidates)
            if (c.State == MemberState.Alive && _policy.ParentRoles.Contains(c.Role)) any = true;
        if (!any) return true; // nothing to choose from: the tracker says so ("no eligible parent alive")
        _firstCandidateAt ??= now;
        DateTimeOffset lastJoin;
        lock (_lock) lastJoin = _lastJoin;
        return now - lastJoin >= FirstChoiceSettle || now - _firstCandidateAt.Value >= FirstChoiceLimit;
    }

    /// <summary>Gossips the parent in use, so siblings choosing count this node in its parent's quota.</summary>
    private void TellParent(string? parentId)
    {
        if (ScopeOf(_policy.UpperScope) is not { } upper) return;
        try { upper.UpdateParent(parentId); }
        catch (ObjectDisposedException) { }
    }

    // ---- addresses ----

    private static IPEndPoint BindAddress(HostPort gossip)
    {
        var ip = gossip.Host switch
        {
            "*" => IPAddress.Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.Parse(gossip.Host),
        };
        return new IPEndPoint(ip, gossip.Port);
    }

    /// <summary>
    /// What the scope reaches us at: the bound address, or for a wildcard bind the first up, non-loopback
    /// IPv4 address of a multicast-capable interface (the LAN mDNS also uses), else loopback.
    /// </summary>
    private static IPEndPoint Advertised(IPEndPoint bound)
    {
        if (!bound.Address.Equals(IPAddress.Any) && !bound.Address.Equals(IPAddress.IPv6Any)) return bound;
        return new IPEndPoint(FirstLanAddress() ?? IPAddress.Loopback, bound.Port);
    }

    private static IPAddress? FirstLanAddress()
    {
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
                foreach (var a in nic.GetIPProperties().UnicastAddresses)
                    if (a.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a.Address)) return a.Address;
            }
        }
        catch (NetworkInformationException)
        {
        }
        return null;
    }

    /// <summary>The uplink listener as children dial it: a wildcard bind is advertised on the gossip address's IP.</summary>
    private static string UplinkAddress(HostPort uplink, IPAddress advertised)
    {
        if (!uplink.IsAnyAddress && uplink.Host != "localhost") return uplink.ToString();
        var ip = uplink.Host == "localhost" ? IPAddress.Loopback : advertised;
        return new IPEndPoint(ip, uplink.Port).ToString();
    }
}

/// <summary>The parent in use as the mesh sees it.</summary>
/// <param name="NodeId">The parent's node id; null when none is chosen (or a listed parent is no known member).</param>
/// <param name="Address">Its uplink address (<c>HOST:PORT</c>), null when none.</param>
/// <param name="Reason">Why this parent (the tracker's reason, or "operator's --parent list").</param>
/// <param name="Since">When this parent was chosen.</param>
public sealed record ParentInfo(string? NodeId, string? Address, string Reason, DateTimeOffset Since);
