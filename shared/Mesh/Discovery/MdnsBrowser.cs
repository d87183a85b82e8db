using System.Net;
using System.Net.Sockets;
using Makaretu.Dns;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mesh.Discovery;

/// <summary>
/// The browsing half of mDNS / DNS-SD, without sockets or timers (driven like <see cref="MdnsResponder"/>):
/// queries for the service type with backoff, caches what responses and announcements carry, expires it by
/// TTL (refresh queries at 80–95 %), resolves instances to SRV, TXT and addresses, and reports peers of our
/// cluster as they appear, change and go. Not thread-safe: one loop drives it.
/// </summary>
public sealed class MdnsBrowser
{
    /// <summary>RFC 6762 §5.2: the second query one second after the first, then doubling.</summary>
    public static readonly TimeSpan FirstQueryInterval = TimeSpan.FromSeconds(1);

    // §10.1 and §10.2: a goodbye, or a record the cache-flush bit replaced, stays one more second.
    private static readonly TimeSpan GraceAfterFlush = TimeSpan.FromSeconds(1);
    // §5.2: refresh queries at 80, 85, 90 and 95 % of the TTL, each with up to 2 % random variation.
    private static readonly double[] RefreshPoints = [0.80, 0.85, 0.90, 0.95];
    private static readonly TimeSpan[] ResolveBackoff = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];
    // Records one name may own: a host has a few addresses, an instance one SRV and one TXT. Only the service
    // name owns one PTR per instance, a fleet's worth, bounded by the whole cache's cap instead.
    private const int MaxRecordsPerName = 32;
    // Known answers in one query: enough for a large fleet, small enough for one packet.
    private const int MaxKnownAnswers = 40;

    private readonly MdnsContext _context;
    private readonly string _serviceKey;
    // The cache, by record and by owner name, and which instances' SRVs name each host: lookups and the
    // peers to rebuild after a change stay proportional to what changed, not to the cache (a busy or
    // hostile LAN may fill it).
    private readonly Dictionary<string, CacheEntry> _cache = [];
    private readonly Dictionary<string, List<CacheEntry>> _byOwner = [];
    private readonly Dictionary<string, HashSet<string>> _instancesByHost = [];
    private readonly HashSet<string> _dirty = [];
    private readonly Dictionary<string, Resolve> _resolving = [];
    private readonly Dictionary<string, DiscoveredPeer> _peers = [];
    private IReadOnlyList<MdnsLink> _links = [];
    private bool _running;
    private DateTimeOffset _nextQuery = DateTimeOffset.MaxValue;
    private TimeSpan _queryInterval = FirstQueryInterval;

    public MdnsBrowser(MdnsOptions options, TimeProvider? time = null, Random? random = null, MdnsCounters? counters = null, ILogger? logger = null)
    {
        _context = new MdnsContext(options, time, random, counters, logger);
        _serviceKey = NameKey(_context.Service);
    }

    public event Action<DiscoveredPeer>? PeerFound;
    /// <summary>A known peer's addresses, ports or TXT changed; the argument is the new view.</summary>
    public event Action<DiscoveredPeer>? PeerUpdated;
    /// <summary>A peer's records expired or were withdrawn (goodbye); the argument is its last view.</summary>
    public event Action<DiscoveredPeer>? PeerLost;

    /// <summary>The peers known now.</summary>
    public IReadOnlyCollection<DiscoveredPeer> Peers => _peers.Values;

    /// <summary>Records in the cache now.</summary>
    public int CachedRecords => _cache.Count;

    public MdnsCounters Counters => _context.Counters;

    /// <summary>When <see cref="Tick"/> has work next.</summary>
    public DateTimeOffset NextDue
    {
        get
        {
            if (!_running) return DateTimeOffset.MaxValue;
            var due = _nextQuery;
            foreach (var e in _cache.Values)
            {
                if (e.Expires < due) due = e.Expires;
                if (e.NextRefresh < due) due = e.NextRefresh;
            }
            foreach (var r in _resolving.Values)
                if (r.Next < due) due = r.Next;
            return due;
        }
    }

    /// <summary>Starts browsing: the first query after 20–120 ms (§5.2), so hosts starting together do not all ask at once.</summary>
    public void Start(IReadOnlyList<MdnsLink> links)
    {
        _links = links;
        _running = true;
        _queryInterval = FirstQueryInterval;
        _nextQuery = _context.Time.GetUtcNow() + TimeSpan.FromMilliseconds(_context.Random.Next(20, 121));
    }

    /// <summary>New interfaces or addresses: query again soon, from the shortest interval.</summary>
    public void SetLinks(IReadOnlyList<MdnsLink> links)
    {
        if (!_running || MdnsLink.SameSet(_links, links)) return;
        Start(links);
    }

    public void Stop() => _running = false;

    /// <summary>Handles one received message. Only responses feed the cache: the answers in a query are the asker's known answers, not the truth.</summary>
    public void Receive(Message message, MdnsLink link, IPEndPoint source, List<MdnsSend> output)
    {
        if (!_running || !message.IsResponse) return;
        var now = _context.Time.GetUtcNow();
        var records = new List<ResourceRecord>(message.Answers.Count + message.AdditionalRecords.Count);
        records.AddRange(message.Answers);
        records.AddRange(message.AdditionalRecords);

        // Order matters within a packet: PTRs name the instances, SRVs of those instances name the hosts,
        // and only then are the hosts' addresses of interest.
        foreach (var r in records)
            if (r is PTRRecord && r.Name == _context.Service) Store(r, link, now);
        foreach (var r in records)
            if (r is SRVRecord or TXTRecord && MdnsNames.InstanceOf(r.Name, _context.Service) is not null) Store(r, link, now);
        foreach (var r in records)
            if (r is AddressRecord && _instancesByHost.ContainsKey(NameKey(r.Name))) Store(r, link, now);
        Recompute(now);
    }

    /// <summary>Expires records, sends the browse, refresh and resolve queries that are due.</summary>
    public void Tick(List<MdnsSend> output)
    {
        if (!_running) return;
        var now = _context.Time.GetUtcNow();
        var questions = new List<Question>();
        List<string>? expired = null;
        foreach (var (key, e) in _cache)
        {
            if (e.Expires <= now)
            {
                (expired ??= []).Add(key);
                continue;
            }
            if (e.NextRefresh <= now)
            {
                AddQuestion(questions, e.Record.Name, e.Record.Type);
                e.RefreshStage++;
                e.NextRefresh = e.RefreshStage < RefreshPoints.Length ? RefreshAt(e, e.RefreshStage) : DateTimeOffset.MaxValue;
            }
        }
        if (expired is not null)
        {
            foreach (var key in expired)
            {
                Remove(_cache[key]);
                _context.Counters.RecordExpired();
            }
        }

        var browse = now >= _nextQuery;
        if (browse)
        {
            AddQuestion(questions, _context.Service, DnsType.PTR);
            _nextQuery = now + _queryInterval;
            var doubled = _queryInterval * 2;
            _queryInterval = doubled < _context.Options.MaxQueryInterval ? doubled : _context.Options.MaxQueryInterval;
        }
        foreach (var resolve in _resolving.Values)
        {
            if (resolve.Next > now) continue;
            foreach (var (name, type) in Missing(resolve.Instance)) AddQuestion(questions, name, type);
            resolve.Attempts++;
            resolve.Next = resolve.Attempts < ResolveBackoff.Length ? now + ResolveBackoff[resolve.Attempts] : DateTimeOffset.MaxValue;
        }
        Recompute(now);
        if (questions.Count == 0) return;

        foreach (var link in _links)
        {
            var query = new Message { Id = 0 };
            query.Questions.AddRange(questions);
            if (questions.Exists(q => q.Type == DnsType.PTR && q.Name == _context.Service)) AddKnownAnswers(query, now);
            output.Add(new MdnsSend(query, link));
        }
    }

    private static void AddQuestion(List<Question> questions, DomainName name, DnsType type)
    {
        if (!questions.Exists(q => q.Type == type && q.Name == name))
            questions.Add(new Question { Name = name, Type = type, Class = DnsClass.IN });
    }

    /// <summary>§7.1: the PTRs we hold with more than half their TTL left, so that responders leave them out.</summary>
    private void AddKnownAnswers(Message query, DateTimeOffset now)
    {
        if (!_byOwner.TryGetValue(_serviceKey, out var ptrs)) return;
        foreach (var e in ptrs)
        {
            if (query.Answers.Count >= MaxKnownAnswers) break;
            if (e.Record is not PTRRecord ptr) continue;
            var left = e.Expires - now;
            if (left.Ticks * 2 <= e.Ttl.Ticks) continue;
            query.Answers.Add(new PTRRecord { Name = ptr.Name, DomainName = ptr.DomainName, Class = DnsClass.IN, TTL = TimeSpan.FromSeconds(Math.Floor(left.TotalSeconds)) });
        }
    }

    private void Store(ResourceRecord record, MdnsLink link, DateTimeOffset now)
    {
        var owner = NameKey(record.Name);
        var key = MdnsRecords.Key(record);
        if (MdnsNames.HasTopBit(record.Class) && record.TTL > TimeSpan.Zero && _byOwner.TryGetValue(owner, out var sameName))
        {
            // §10.2: the cache-flush bit says this is the whole RRset: the others of the same name, type and
            // class that are older than one second go within a second. (Same owner by construction; the
            // key compares the RDATA.)
            foreach (var e in sameName)
            {
                if (e.Received > now - GraceAfterFlush || e.Record.Type != record.Type || e.Key == key
                    || MdnsNames.BaseClass(e.Record.Class) != MdnsNames.BaseClass(record.Class)) continue;
                if (e.Expires > now + GraceAfterFlush) e.Expires = now + GraceAfterFlush;
            }
        }
        if (record.TTL == TimeSpan.Zero)
        {
            // §10.1 goodbye: remove it in one second (not at once, in case an update follows it).
            _context.Counters.GoodbyeReceived();
            if (_cache.TryGetValue(key, out var gone))
            {
                if (gone.Expires > now + GraceAfterFlush) gone.Expires = now + GraceAfterFlush;
                gone.NextRefresh = DateTimeOffset.MaxValue;
            }
            return;
        }
        if (!_cache.TryGetValue(key, out var entry))
        {
            if (_cache.Count >= _context.Options.MaxCachedRecords
                || (owner != _serviceKey && _byOwner.TryGetValue(owner, out var owned) && owned.Count >= MaxRecordsPerName))
            {
                _context.Counters.CacheFull();
                return;
            }
            entry = new CacheEntry(record, key, owner, record switch
            {
                PTRRecord ptr => NameKey(ptr.DomainName),
                SRVRecord srv => NameKey(srv.Target),
                _ => "",
            });
            Add(entry);
        }
        entry.Record = record;
        entry.InterfaceIndex = link.InterfaceIndex;
        entry.Received = now;
        entry.Ttl = record.TTL;
        entry.Expires = now + record.TTL;
        entry.RefreshStage = 0;
        entry.NextRefresh = RefreshAt(entry, 0);
    }

    private void Add(CacheEntry entry)
    {
        _cache[entry.Key] = entry;
        if (!_byOwner.TryGetValue(entry.Owner, out var list)) _byOwner[entry.Owner] = list = [];
        list.Add(entry);
        if (entry.Record is SRVRecord)
        {
            var host = entry.Target;
            if (!_instancesByHost.TryGetValue(host, out var instances)) _instancesByHost[host] = instances = [];
            instances.Add(entry.Owner);
        }
        MarkDirty(entry);
    }

    private void Remove(CacheEntry entry)
    {
        _cache.Remove(entry.Key);
        if (_byOwner.TryGetValue(entry.Owner, out var list))
        {
            list.Remove(entry);
            if (list.Count == 0) _byOwner.Remove(entry.Owner);
        }
        if (entry.Record is SRVRecord)
        {
            var host = entry.Target;
            // Another SRV of the instance may still name the host.
            if (_instancesByHost.TryGetValue(host, out var instances) && Find<SRVRecord>(entry.Owner, e => e.Target == host) is null)
            {
                instances.Remove(entry.Owner);
                if (instances.Count == 0) _instancesByHost.Remove(host);
            }
        }
        MarkDirty(entry);
    }

    private void MarkDirty(CacheEntry entry)
    {
        switch (entry.Record)
        {
            case PTRRecord:
                _dirty.Add(entry.Target);
                break;
            case SRVRecord or TXTRecord:
                _dirty.Add(entry.Owner);
                break;
            case AddressRecord when _instancesByHost.TryGetValue(entry.Owner, out var instances):
                _dirty.UnionWith(instances);
                break;
        }
    }

    private DateTimeOffset RefreshAt(CacheEntry e, int stage) =>
        e.Received + e.Ttl * (RefreshPoints[stage] + _context.Random.NextDouble() * 0.02);

    private IEnumerable<(DomainName Name, DnsType Type)> Missing(DomainName instance)
    {
        var key = NameKey(instance);
        var srv = Find<SRVRecord>(key);
        if (srv is null) yield return (instance, DnsType.SRV);
        if (Find<TXTRecord>(key) is null) yield return (instance, DnsType.TXT);
        if (srv is not null && Addresses(NameKey(srv.Target)).Count == 0)
        {
            yield return (srv.Target, DnsType.A);
            yield return (srv.Target, DnsType.AAAA);
        }
    }

    /// <summary>The most recently received record of type <typeparamref name="T"/> owned by <paramref name="owner"/>.</summary>
    private T? Find<T>(string owner, Func<CacheEntry, bool>? match = null) where T : ResourceRecord
    {
        if (!_byOwner.TryGetValue(owner, out var list)) return null;
        T? best = null;
        DateTimeOffset bestAt = default;
        foreach (var e in list)
        {
            if (e.Record is T r && (match is null || match(e)) && (best is null || e.Received > bestAt))
            {
                best = r;
                bestAt = e.Received;
            }
        }
        return best;
    }

    private List<IPAddress> Addresses(string host)
    {
        var v4 = new List<IPAddress>();
        var v6 = new List<IPAddress>();
        if (_byOwner.TryGetValue(host, out var list))
        {
            foreach (var e in list)
            {
                if (e.Record is not AddressRecord a) continue;
                var address = a.Address;
                if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv6LinkLocal)
                    address = new IPAddress(address.GetAddressBytes(), e.InterfaceIndex);
                var target = address.AddressFamily == AddressFamily.InterNetwork ? v4 : v6;
                if (!target.Contains(address)) target.Add(address);
            }
        }
        // A stable order, so that an unchanged set is not reported as a change.
        v4.Sort((x, y) => x.GetAddressBytes().AsSpan().SequenceCompareTo(y.GetAddressBytes()));
        v6.Sort((x, y) => x.GetAddressBytes().AsSpan().SequenceCompareTo(y.GetAddressBytes()));
        v4.AddRange(v6);
        return v4;
    }

    /// <summary>Rebuilds the peers whose records changed and reports the differences.</summary>
    private void Recompute(DateTimeOffset now)
    {
        if (_dirty.Count == 0) return;
        var dirty = _dirty.ToList();
        _dirty.Clear();
        foreach (var instanceKey in dirty)
        {
            var ptr = Find<PTRRecord>(_serviceKey, e => e.Target == instanceKey);
            DiscoveredPeer? peer = null;
            if (ptr is null)
            {
                _resolving.Remove(instanceKey);
            }
            else
            {
                peer = Build(ptr.DomainName, instanceKey);
                if (peer is not null)
                {
                    _resolving.Remove(instanceKey);
                }
                else if (!_resolving.ContainsKey(instanceKey) && Missing(ptr.DomainName).Any())
                {
                    // Incomplete: ask for what is missing, with a short backoff.
                    _resolving[instanceKey] = new Resolve(ptr.DomainName, now);
                }
                if (peer is not null && (peer.NodeId == _context.Options.NodeId || peer.Cluster != _context.Options.Cluster)) peer = null;
            }
            Report(instanceKey, peer);
        }
    }

    private void Report(string instanceKey, DiscoveredPeer? peer)
    {
        _peers.TryGetValue(instanceKey, out var old);
        if (peer is not null) _peers[instanceKey] = peer;
        else _peers.Remove(instanceKey);

        if (old is null && peer is not null)
        {
            _context.Counters.PeerFound();
            MdnsLog.PeerFound(_context.Logger, peer.NodeId, peer.Role, peer.Instance, string.Join(", ", peer.Addresses), peer.Port);
            Raise(PeerFound, peer);
        }
        else if (old is not null && peer is null)
        {
            _context.Counters.PeerLost();
            MdnsLog.PeerLost(_context.Logger, old.NodeId, old.Instance);
            Raise(PeerLost, old);
        }
        else if (old is not null && peer is not null && !old.SameAs(peer))
        {
            MdnsLog.PeerUpdated(_context.Logger, peer.NodeId, peer.Instance, string.Join(", ", peer.Addresses), peer.Port);
            Raise(PeerUpdated, peer);
        }
    }

    private DiscoveredPeer? Build(DomainName instance, string instanceKey)
    {
        var srv = Find<SRVRecord>(instanceKey);
        var txt = Find<TXTRecord>(instanceKey);
        if (srv is null || txt is null) return null;
        var addresses = Addresses(NameKey(srv.Target));
        if (addresses.Count == 0) return null;
        var properties = MdnsTxt.Parse(txt.Strings);
        // Not an EdgeStream node (or a broken one) without an id and a cluster.
        if (!properties.TryGetValue(MdnsTxt.NodeIdKey, out var nodeId) || nodeId.Length == 0) return null;
        if (!properties.TryGetValue(MdnsTxt.ClusterKey, out var cluster)) return null;
        properties.TryGetValue(MdnsTxt.RoleKey, out var role);
        return new DiscoveredPeer(
            Instance: instance.Labels[0],
            NodeId: nodeId,
            Role: role ?? "",
            Cluster: cluster,
            HostName: srv.Target.ToString(),
            Port: srv.Port,
            UplinkPort: MdnsTxt.ParsePort(properties, MdnsTxt.UplinkKey),
            GossipPort: MdnsTxt.ParsePort(properties, MdnsTxt.GossipKey),
            Addresses: addresses,
            Properties: properties);
    }

    /// <summary>
    /// A dictionary key for a name: labels lower-cased (DNS names compare case-insensitively, RFC 4343) and
    /// joined with NUL, which, unlike a dot, cannot be mistaken for a dot inside an instance label.
    /// </summary>
    internal static string NameKey(DomainName name)
    {
        var labels = name.Labels;
        if (labels.Count == 1) return labels[0].ToLowerInvariant();
        var parts = new string[labels.Count];
        for (var i = 0; i < parts.Length; i++) parts[i] = labels[i].ToLowerInvariant();
        return string.Join('\0', parts);
    }

    private void Raise(Action<DiscoveredPeer>? handler, DiscoveredPeer peer)
    {
        if (handler is null) return;
        try
        {
            handler(peer);
        }
        catch (Exception ex)
        {
            // A subscriber's bug must not stop discovery (nor leave the peer list half updated).
            MdnsLog.HandlerFailed(_context.Logger, ex);
        }
    }

    private sealed class CacheEntry(ResourceRecord record, string key, string owner, string target)
    {
        public ResourceRecord Record { get; set; } = record;
        public string Key { get; } = key;
        public string Owner { get; } = owner;
        /// <summary>The name a PTR or SRV points at, as a key; empty for other types.</summary>
        public string Target { get; } = target;
        public int InterfaceIndex { get; set; }
        public DateTimeOffset Received { get; set; }
        public TimeSpan Ttl { get; set; }
        public DateTimeOffset Expires { get; set; }
        public int RefreshStage { get; set; }
        public DateTimeOffset NextRefresh { get; set; }
    }

    private sealed class Resolve(DomainName instance, DateTimeOffset next)
    {
        public DomainName Instance { get; } = instance;
        public DateTimeOffset Next { get; set; } = next;
        public int Attempts { get; set; }
    }
}
