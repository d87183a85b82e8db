namespace EdgeStream.Mesh.Discovery;

/// <summary>
/// Settings of <see cref="MdnsDiscovery"/> (and of the socket-free <see cref="MdnsResponder"/> and
/// <see cref="MdnsBrowser"/> it drives). Defaults are documented per property; <see cref="Validate"/>
/// runs at start-up and names the first bad value.
/// </summary>
public sealed class MdnsOptions
{
    /// <summary>The DNS-SD service type every node advertises and browses. Default <c>_edgestream._tcp.local</c>.</summary>
    public string ServiceType { get; init; } = "_edgestream._tcp.local";

    /// <summary>This node's id (1–64 of <c>A-Z a-z 0-9 . _ -</c>): TXT key <c>id</c>; a browser never reports its own id.</summary>
    public required string NodeId { get; init; }

    /// <summary>This node's role (<c>edge</c>, <c>gateway</c>, <c>cloud</c>): TXT key <c>role</c>.</summary>
    public required string Role { get; init; }

    /// <summary>
    /// The cluster (fleet) name: TXT key <c>cluster</c>. Peers of another cluster are not reported, so two
    /// fleets on one LAN stay apart. Default <c>default</c>; 1–63 of <c>A-Z a-z 0-9 . _ -</c>.
    /// </summary>
    public string Cluster { get; init; } = "default";

    /// <summary>
    /// The service instance name (one DNS label, up to 63 UTF-8 bytes, any characters but control ones).
    /// Default: the node id (its first 63 characters). On a conflict the responder renames it <c>name (2)</c>, <c>name (3)</c>, …
    /// </summary>
    public string? InstanceName { get; init; }

    /// <summary>
    /// The host name (one label; <c>.local</c> is appended) that the SRV record points at and the A/AAAA
    /// records name. Default: the node id with characters outside <c>A-Z a-z 0-9 -</c> turned into <c>-</c>.
    /// Not the machine's name: avahi owns that one, and nodes in one machine (or in network namespaces of
    /// one machine) would all claim it. Renamed <c>host-2</c>, <c>host-3</c>, … on a conflict.
    /// </summary>
    public string? HostName { get; init; }

    /// <summary>The port the SRV record names: the one a peer connects to first (the uplink listener on a parent). Required, 1–65535.</summary>
    public required int Port { get; init; }

    /// <summary>The uplink listener's port, TXT key <c>uplink</c>; 0 leaves the key out. Default 0.</summary>
    public int UplinkPort { get; init; }

    /// <summary>The gossip (membership) port, TXT key <c>gossip</c>; 0 leaves the key out. Default 0.</summary>
    public int GossipPort { get; init; }

    /// <summary>
    /// More TXT <c>key=value</c> pairs (printable ASCII, keys without <c>=</c>). The whole TXT record must stay under
    /// <see cref="MdnsTxt.MaxLength"/> bytes. Default none.
    /// </summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Interface names (as <c>ip link</c> shows them) to run on; empty means every interface that is up,
    /// supports multicast and is not loopback. The responder answers, probes and announces only on the
    /// interfaces it joined the group on. Default empty (all).
    /// </summary>
    public IReadOnlyList<string> Interfaces { get; init; } = [];

    /// <summary>Use IPv4 (224.0.0.251). Default true.</summary>
    public bool UseIPv4 { get; init; } = true;

    /// <summary>Use IPv6 (ff02::fb). Default true.</summary>
    public bool UseIPv6 { get; init; } = true;

    /// <summary>Advertise this node (probe, announce, answer, goodbye). Default true.</summary>
    public bool Advertise { get; init; } = true;

    /// <summary>Browse for peers. Default true.</summary>
    public bool Browse { get; init; } = true;

    /// <summary>TTL of the records that name a host: SRV, A, AAAA. Default 120 s (RFC 6762 §10).</summary>
    public TimeSpan HostRecordTtl { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>TTL of the other records: PTR, TXT. Default 75 min (RFC 6762 §10).</summary>
    public TimeSpan ServiceRecordTtl { get; init; } = TimeSpan.FromMinutes(75);

    /// <summary>Longest interval between two browse queries; they start 1 s apart and double (RFC 6762 §5.2). Default 1 h.</summary>
    public TimeSpan MaxQueryInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often the interfaces and their addresses are looked at again; a change re-probes and re-announces. Default 10 s.</summary>
    public TimeSpan InterfaceRescanInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Records the browser keeps at most; more are dropped and counted (a noisy or hostile LAN cannot grow it). Default 4096.</summary>
    public int MaxCachedRecords { get; init; } = 4096;

    /// <summary>The instance name in force before any conflict renaming.</summary>
    public string EffectiveInstanceName => InstanceName ?? (NodeId.Length > 63 ? NodeId[..63] : NodeId);

    /// <summary>The host label in force before any conflict renaming (without <c>.local</c>).</summary>
    public string EffectiveHostName => HostName ?? MdnsNames.HostLabelFrom(NodeId);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (!MdnsNames.IsToken(NodeId, 64)) throw new ArgumentException($"mDNS: node id '{NodeId}' must be 1-64 of A-Z a-z 0-9 . _ -");
        if (!MdnsNames.IsToken(Role, 32)) throw new ArgumentException($"mDNS: role '{Role}' must be 1-32 of A-Z a-z 0-9 . _ -");
        if (!MdnsNames.IsToken(Cluster, 63)) throw new ArgumentException($"mDNS: cluster '{Cluster}' must be 1-63 of A-Z a-z 0-9 . _ -");
        if (!MdnsNames.IsServiceType(ServiceType)) throw new ArgumentException($"mDNS: service type '{ServiceType}' must look like _name._tcp.local or _name._udp.local");
        if (!MdnsNames.IsInstanceLabel(EffectiveInstanceName)) throw new ArgumentException($"mDNS: instance name '{EffectiveInstanceName}' must be 1-63 UTF-8 bytes without control characters");
        if (!MdnsNames.IsHostLabel(EffectiveHostName)) throw new ArgumentException($"mDNS: host name '{EffectiveHostName}' must be 1-63 of A-Z a-z 0-9 -, not starting or ending with -");
        if (Port is < 1 or > 65535) throw new ArgumentException($"mDNS: SRV port {Port} must be 1-65535");
        if (UplinkPort is < 0 or > 65535 || GossipPort is < 0 or > 65535) throw new ArgumentException("mDNS: uplink and gossip ports must be 0 (absent) or 1-65535");
        if (!UseIPv4 && !UseIPv6) throw new ArgumentException("mDNS: at least one of IPv4 and IPv6 must be on");
        if (HostRecordTtl < TimeSpan.FromSeconds(1) || ServiceRecordTtl < TimeSpan.FromSeconds(1)) throw new ArgumentException("mDNS: record TTLs must be at least 1 s");
        if (HostRecordTtl > TimeSpan.FromDays(1) || ServiceRecordTtl > TimeSpan.FromDays(1)) throw new ArgumentException("mDNS: record TTLs must be at most 1 day");
        if (MaxQueryInterval < TimeSpan.FromSeconds(1)) throw new ArgumentException("mDNS: the longest query interval must be at least 1 s");
        if (InterfaceRescanInterval < TimeSpan.FromMilliseconds(100)) throw new ArgumentException("mDNS: the interface rescan interval must be at least 100 ms");
        if (MaxCachedRecords < 16) throw new ArgumentException("mDNS: the record cache must hold at least 16 records");
        foreach (var name in Interfaces)
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("mDNS: an interface name is empty");
        // Builds the TXT record once so that a bad key or an oversized record fails here, not on the wire.
        MdnsTxt.Build(this);
    }
}
