using EdgeStream.Storage;
using Serilog.Events;

namespace EdgeStream.Hosting.Configuration;

/// <summary>
/// The agent's validated settings. Built only by <see cref="AgentConfiguration.Resolve"/>; every
/// default is documented in <see cref="AgentSettings.All"/> (and so in <c>edgestream run --help</c>).
/// </summary>
public sealed class AgentOptions
{
    /// <summary>The tier this node runs as. Default edge.</summary>
    public required NodeRole Role { get; init; }
    /// <summary>The node id asked for by the operator, or null to use the one kept in the data directory (generated on first start).</summary>
    public string? NodeId { get; init; }
    /// <summary>Absolute path of the data directory. Default <c>./data</c>.</summary>
    public required string DataDirectory { get; init; }
    /// <summary>Kafka wire-protocol listener (a data port: all interfaces by default).</summary>
    public required HostPort Kafka { get; init; }
    /// <summary>What Kafka clients are told to connect to; null: the address they reached.</summary>
    public HostPort? KafkaAdvertised { get; init; }
    /// <summary>Largest Kafka request frame accepted. Default 100 MiB.</summary>
    public long KafkaMaxRequestBytes { get; init; } = 100L * 1024 * 1024;
    /// <summary>Broker id shown to Kafka clients. Default 1.</summary>
    public int KafkaBrokerId { get; init; } = 1;
    /// <summary>Incremental fetch sessions (KIP-227) kept at once; 0 turns them off. Default 1000.</summary>
    public int KafkaFetchSessions { get; init; } = 1000;
    /// <summary>Consumer-protocol group session timeout (group.consumer.session.timeout.ms). Default 45 s.</summary>
    public TimeSpan KafkaGroupConsumerSessionTimeout { get; init; } = TimeSpan.FromSeconds(45);
    /// <summary>Consumer-protocol group heartbeat interval (group.consumer.heartbeat.interval.ms). Default 5 s.</summary>
    public TimeSpan KafkaGroupConsumerHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Create unknown topics on first use. Default true.</summary>
    public bool AutoCreateTopics { get; init; } = true;
    /// <summary>Partitions of auto-created topics. Default 1.</summary>
    public int Partitions { get; init; } = 1;
    /// <summary>MQTT listener (a data port: all interfaces by default). Reserved: bound by a later issue.</summary>
    public required HostPort Mqtt { get; init; }
    /// <summary>MQTT topic filter → log topic rules, in match order (the implicit <c>#=mqtt</c> is not listed).</summary>
    public IReadOnlyList<EdgeStream.Mqtt.MqttMapRule> MqttMap { get; init; } = [];
    /// <summary>MQTT limits: largest packet (default 1 MiB), connections (10000), QoS 2 awaiting PUBREL / Receive Maximum (100), queued per subscriber (100000).</summary>
    public EdgeStream.Mqtt.Limits.MqttLimits MqttLimits { get; init; } = new();
    /// <summary>The MQTT broker serving the listener (<c>--mqtt-engine</c>).</summary>
    public EdgeStream.Mqtt.MqttEngine MqttEngine { get; init; } = EdgeStream.Mqtt.MqttEngine.Own;
    /// <summary>HTTP listener for health, status and admin. Loopback by default.</summary>
    public required HostPort Http { get; init; }
    /// <summary>Bearer token requests other than GET and HEAD on the HTTP listener need (<c>--http-token</c>); null: none is accepted (read-only). Never logged.</summary>
    public string? HttpToken { get; init; }
    /// <summary>Listener for children's uplinks; gateway and cloud only (null on an edge). Reserved.</summary>
    public HostPort? Uplink { get; init; }
    /// <summary>Largest uncompressed uplink frame accepted from a child. Default 16 MiB.</summary>
    public long UplinkMaxFrameBytes { get; init; } = 16L * 1024 * 1024;
    /// <summary>Upstream nodes this node forwards to, in order of preference; none on a cloud node.</summary>
    public required IReadOnlyList<HostPort> Parents { get; init; }
    /// <summary>Find site peers by mDNS and advertise this node (<c>--mdns</c>). Default on.</summary>
    public bool Mdns { get; init; } = true;
    /// <summary>The fleet's name: gossip and mDNS of another cluster are ignored (<c>--cluster</c>). Default <c>edgestream</c>.</summary>
    public string Cluster { get; init; } = "edgestream";
    /// <summary>Gossip address, UDP and TCP (<c>--gossip</c>). Default <c>0.0.0.0:7946</c>.</summary>
    public HostPort Gossip { get; init; } = new("0.0.0.0", 7946);
    /// <summary>Gossip addresses to join the node's upper scope through (<c>--seeds</c>). Default none.</summary>
    public IReadOnlyList<HostPort> Seeds { get; init; } = [];
    /// <summary>Gossip keys (<c>--gossip-key</c>), the first sealing what is sent; empty: gossip in clear text. Never logged.</summary>
    public IReadOnlyList<byte[]> GossipKeys { get; init; } = [];
    /// <summary>PostgreSQL change-data-capture sources (<c>--cdc</c>). Default none.</summary>
    public IReadOnlyList<EdgeStream.Cdc.CdcSourceOptions> Cdc { get; init; } = [];
    /// <summary>Topic name patterns forwarded to the parent. Default <c>*</c>.</summary>
    public IReadOnlyList<string> UplinkTopics { get; init; } = ["*"];
    /// <summary>Prepended to forwarded topic names at the parent; null = none.</summary>
    public string? UplinkPrefix { get; init; }
    /// <summary>Local topic → topic name at the parent, exact names.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> UplinkRename { get; init; } = [];
    /// <summary>Uplink bandwidth cap in compressed bytes per second; 0 = none.</summary>
    public long UplinkRateBytesPerSecond { get; init; }
    /// <summary>Topics with their own label in <c>/metrics</c> (<c>--metrics-max-topics</c>); the rest are <c>_other</c>. Default 100.</summary>
    public int MetricsMaxTopics { get; init; } = 100;
    /// <summary>How often the fleet report goes to the parent (<c>--fleet-report-interval</c>). Default 5 s.</summary>
    public TimeSpan FleetReportInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>A fleet member not heard from for this long is stale (<c>--fleet-stale-after</c>). Default 30 s.</summary>
    public TimeSpan FleetStaleAfter { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Longest wait between uplink reconnect attempts. Default 30 s.</summary>
    public TimeSpan UplinkMaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Bootstrap brokers of the external Kafka cluster (<c>--sink</c>); null = no sink (cloud only).</summary>
    public IReadOnlyList<string>? Sink { get; init; }
    /// <summary>Topics the sink forwards (globs).</summary>
    public IReadOnlyList<string> SinkTopics { get; init; } = ["*"];
    /// <summary>Prepended to a topic's name at the external cluster.</summary>
    public string? SinkTopicPrefix { get; init; }
    /// <summary>Local topic → name at the external cluster.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> SinkTopicMap { get; init; } = [];
    /// <summary>How long the sink holds an origin's records waiting for the ones before them.</summary>
    public TimeSpan SinkGapWait { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// TLS toward the sink's cluster: the CA file (full path) or "system" (<c>--sink-tls-ca</c>), null for
    /// clear text; the client certificate and key (<c>--sink-tls-cert</c>, <c>--sink-tls-key</c>, full paths).
    /// </summary>
    public string? SinkTlsCa { get; init; }
    public string? SinkTlsCert { get; init; }
    public string? SinkTlsKey { get; init; }
    /// <summary>The sink's SASL mechanism (SASL name) and user; null: none.</summary>
    public string? SinkSasl { get; init; }
    public string? SinkSaslUsername { get; init; }
    /// <summary>Where the sink's SASL password is read at start: an environment variable's name or a file (full path). The password itself is never held in the options.</summary>
    public string? SinkSaslPasswordEnv { get; init; }
    public string? SinkSaslPasswordFile { get; init; }
    /// <summary>Where received files are materialized (<c>--files-dir</c>); null = the node does not receive files.</summary>
    public string? FilesDir { get; init; }
    /// <summary>--tls-cert, --tls-key, --tls-ca (full paths); null: clear text.</summary>
    public string? TlsCert { get; init; }
    public string? TlsKey { get; init; }
    public string? TlsCa { get; init; }
    /// <summary>Whether the Kafka and MQTT listeners ask TLS clients for a certificate (<c>--tls-client-auth</c>).</summary>
    public EdgeStream.Security.Tls.TlsClientAuth TlsClientAuth { get; init; } = EdgeStream.Security.Tls.TlsClientAuth.Requested;
    /// <summary>SASL mechanisms the Kafka listener requires (SASL names, e.g. SCRAM-SHA-512); empty: no authentication.</summary>
    public IReadOnlyList<string> KafkaSasl { get; init; } = [];
    /// <summary>Whether MQTT clients must give a user name and password (<c>--mqtt-auth required</c>).</summary>
    public bool MqttAuth { get; init; }
    /// <summary>Principals (<c>User:NAME</c>) allowed the Kafka user administration APIs.</summary>
    public IReadOnlyList<string> SuperUsers { get; init; } = [];
    /// <summary>Whether requests are checked against the ACLs (<c>--authorizer on</c>); off by default.</summary>
    public bool Authorizer { get; init; }
    /// <summary>Node ids put on the uplink deny list at start (<c>--revoked-nodes</c>).</summary>
    public IReadOnlyList<string> RevokedNodes { get; init; } = [];
    /// <summary>When appended data is fsynced. Default group.</summary>
    public required FsyncPolicy Fsync { get; init; }
    /// <summary>The group-commit window for <see cref="FsyncPolicy.Group"/>.</summary>
    public required TimeSpan FsyncInterval { get; init; }
    /// <summary>How often the background flusher fsyncs everything under <see cref="FsyncPolicy.Os"/>.</summary>
    public required TimeSpan FlushInterval { get; init; }
    /// <summary>Disk budget for the log in bytes; 0 = none.</summary>
    public required long MaxDiskBytes { get; init; }
    /// <summary>Default disk.full.policy of new topics: what appends do once <see cref="MaxDiskBytes"/> is full.</summary>
    public DiskFullPolicy DiskFullPolicy { get; init; }
    /// <summary>Default segment size of new topics.</summary>
    public required long SegmentBytes { get; init; }
    /// <summary>Default per-partition size retention of new topics; -1 = none.</summary>
    public required long RetentionBytes { get; init; }
    /// <summary>Default age retention of new topics; null = keep forever.</summary>
    public TimeSpan? Retention { get; init; }
    /// <summary>How often retention is enforced.</summary>
    public required TimeSpan RetentionCheckInterval { get; init; }
    /// <summary>The memory profile asked for (<c>auto</c> is resolved at start-up, see <see cref="MemoryProfiles.Resolve"/>).</summary>
    public MemoryProfile Profile { get; init; }
    /// <summary>Memory the node should stay within in bytes; 0 = none.</summary>
    public long MemoryLimitBytes { get; init; }
    /// <summary>Minimum level written to the console and the log files.</summary>
    public required LogEventLevel LogLevel { get; init; }
    /// <summary>The JSON config file the settings were read from, if any.</summary>
    public string? ConfigFile { get; init; }

    /// <summary><c>{data}/log</c>: topic partitions and their segments.</summary>
    public string LogDirectory => Path.Combine(DataDirectory, "log");
    /// <summary><c>{data}/meta.db</c>: node identity, topics, offsets, cursors.</summary>
    public string MetadataPath => Path.Combine(DataDirectory, "meta.db");
    /// <summary><c>{data}/logs</c>: the agent's own rolling log files.</summary>
    public string LogsDirectory => Path.Combine(DataDirectory, "logs");
}

/// <summary>Mutable staging area the setting table writes into; <see cref="Build"/> checks the whole and freezes it.</summary>
internal sealed class AgentOptionsBuilder
{
    internal NodeRole Role { get; set; }
    internal string? NodeId { get; set; }
    internal string Data { get; set; } = "data";
    internal HostPort Kafka { get; set; }
    internal HostPort? KafkaAdvertised { get; set; }
    internal long KafkaMaxRequestBytes { get; set; } = 100L * 1024 * 1024;
    internal int KafkaBrokerId { get; set; } = 1;
    internal int KafkaFetchSessions { get; set; } = 1000;
    internal TimeSpan KafkaGroupConsumerSessionTimeout { get; set; } = TimeSpan.FromSeconds(45);
    internal TimeSpan KafkaGroupConsumerHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);
    internal bool AutoCreateTopics { get; set; } = true;
    internal int Partitions { get; set; } = 1;
    internal HostPort Mqtt { get; set; }
    internal IReadOnlyList<EdgeStream.Mqtt.MqttMapRule> MqttMap { get; set; } = [];
    internal long MqttMaxPacketBytes { get; set; } = EdgeStream.Mqtt.Limits.MqttLimits.DefaultMaxPacketBytes;
    internal int MqttMaxConnections { get; set; } = EdgeStream.Mqtt.Limits.MqttLimits.DefaultMaxConnections;
    internal int MqttMaxInflight { get; set; } = EdgeStream.Mqtt.Limits.MqttLimits.DefaultMaxInflight;
    internal int MqttMaxQueued { get; set; } = EdgeStream.Mqtt.Limits.MqttLimits.DefaultMaxQueued;
    internal int MqttMaxKeepAliveSeconds { get; set; }
    internal EdgeStream.Mqtt.MqttEngine MqttEngine { get; set; } = EdgeStream.Mqtt.MqttEngine.Own;
    internal HostPort Http { get; set; }
    internal string? HttpToken { get; set; }
    internal HostPort Uplink { get; set; }
    internal long UplinkMaxFrameBytes { get; set; } = 16L * 1024 * 1024;
    internal IReadOnlyList<HostPort> Parents { get; set; } = [];
    internal bool Mdns { get; set; } = true;
    internal string Cluster { get; set; } = "edgestream";
    internal HostPort Gossip { get; set; }
    internal IReadOnlyList<HostPort> Seeds { get; set; } = [];
    internal IReadOnlyList<byte[]> GossipKeys { get; set; } = [];
    internal IReadOnlyList<EdgeStream.Cdc.CdcSourceOptions> Cdc { get; set; } = [];
    internal IReadOnlyList<string> UplinkTopics { get; set; } = ["*"];
    internal string? UplinkPrefix { get; set; }
    internal IReadOnlyList<KeyValuePair<string, string>> UplinkRename { get; set; } = [];
    internal long UplinkRateBytesPerSecond { get; set; }
    internal TimeSpan UplinkMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);
    internal IReadOnlyList<string>? Sink { get; set; }
    internal IReadOnlyList<string> SinkTopics { get; set; } = ["*"];
    internal string? SinkTopicPrefix { get; set; }
    internal IReadOnlyList<KeyValuePair<string, string>> SinkTopicMap { get; set; } = [];
    internal TimeSpan SinkGapWait { get; set; } = TimeSpan.FromSeconds(60);
    internal string? SinkTlsCa { get; set; }
    internal string? SinkTlsCert { get; set; }
    internal string? SinkTlsKey { get; set; }
    internal string? SinkSasl { get; set; }
    internal string? SinkSaslUsername { get; set; }
    internal string? SinkSaslPasswordEnv { get; set; }
    internal string? SinkSaslPasswordFile { get; set; }
    internal string? FilesDir { get; set; }
    internal string? TlsCert { get; set; }
    internal string? TlsKey { get; set; }
    internal string? TlsCa { get; set; }
    internal EdgeStream.Security.Tls.TlsClientAuth TlsClientAuth { get; set; } = EdgeStream.Security.Tls.TlsClientAuth.Requested;
    internal IReadOnlyList<string> KafkaSasl { get; set; } = [];
    internal bool MqttAuth { get; set; }
    internal IReadOnlyList<string> SuperUsers { get; set; } = [];
    internal bool Authorizer { get; set; }
    internal IReadOnlyList<string> RevokedNodes { get; set; } = [];
    internal int MetricsMaxTopics { get; set; } = 100;
    internal TimeSpan FleetReportInterval { get; set; } = TimeSpan.FromSeconds(5);
    internal TimeSpan FleetStaleAfter { get; set; } = TimeSpan.FromSeconds(30);
    internal FsyncPolicy Fsync { get; set; }
    internal TimeSpan FsyncInterval { get; set; }
    internal TimeSpan FlushInterval { get; set; }
    internal long MaxDiskBytes { get; set; }
    internal DiskFullPolicy DiskFullPolicy { get; set; }
    internal long SegmentBytes { get; set; }
    internal long RetentionBytes { get; set; }
    internal TimeSpan? Retention { get; set; }
    internal TimeSpan RetentionCheckInterval { get; set; }
    internal MemoryProfile Profile { get; set; }
    internal long MemoryLimitBytes { get; set; }
    internal LogEventLevel LogLevel { get; set; }
    internal string? ConfigFile { get; set; }

    /// <summary>Where each setting's value came from, by setting name (for messages).</summary>
    internal Dictionary<string, SettingSource> Sources { get; } = new(StringComparer.Ordinal);

    internal string Describe(SettingDescriptor setting) =>
        Sources.TryGetValue(setting.Name, out var s) ? $"{setting.Flag} ({s.Describe(setting)})" : setting.Flag;

    internal bool IsExplicit(SettingDescriptor setting) =>
        Sources.TryGetValue(setting.Name, out var s) && s.Kind != SettingSourceKind.Default;

    /// <summary>
    /// The sink's TLS and SASL settings go together as Kafka clients' do; a password comes only from an
    /// environment variable or a file (a flag or a config key would show it in process lists and files),
    /// and is checked to be there now so a missing one fails the start, not the first connection.
    /// </summary>
    private void ValidateSinkSecurity()
    {
        var security = new SettingDescriptor[]
        {
            AgentSettings.SinkTlsCa, AgentSettings.SinkTlsCert, AgentSettings.SinkTlsKey, AgentSettings.SinkSasl,
            AgentSettings.SinkSaslUsername, AgentSettings.SinkSaslPasswordEnv, AgentSettings.SinkSaslPasswordFile,
        };
        if (Sink is null)
        {
            foreach (var setting in security)
                if (IsExplicit(setting) && !(setting == AgentSettings.SinkSasl && SinkSasl is null))
                    throw new ConfigurationException($"{Describe(setting)} needs {AgentSettings.Sink.Flag}: it secures the connection to the external cluster.");
            return;
        }
        if ((SinkTlsCert is null) != (SinkTlsKey is null))
            throw new ConfigurationException($"{Describe(AgentSettings.SinkTlsCert)} and {Describe(AgentSettings.SinkTlsKey)} go together: give both for a client certificate, or neither.");
        if (SinkTlsCert is not null && SinkTlsCa is null)
            throw new ConfigurationException($"{Describe(AgentSettings.SinkTlsCert)} needs {AgentSettings.SinkTlsCa.Flag}: TLS toward the external cluster is turned on by its CA (or 'system').");
        if (SinkTlsCa is not null && !SinkTlsCa.Equals("system", StringComparison.OrdinalIgnoreCase) && !File.Exists(SinkTlsCa))
            throw new ConfigurationException($"{Describe(AgentSettings.SinkTlsCa)}: {SinkTlsCa}: no such file (or 'system' for the system's CAs).");
        if (SinkSasl is null)
        {
            foreach (var setting in new[] { AgentSettings.SinkSaslUsername, AgentSettings.SinkSaslPasswordEnv, AgentSettings.SinkSaslPasswordFile })
                if (IsExplicit(setting))
                    throw new ConfigurationException($"{Describe(setting)} needs {AgentSettings.SinkSasl.Flag} plain, scram-sha-256 or scram-sha-512.");
            return;
        }
        if (SinkSaslUsername is null)
            throw new ConfigurationException($"{Describe(AgentSettings.SinkSasl)} needs {AgentSettings.SinkSaslUsername.Flag}.");
        if ((SinkSaslPasswordEnv is null) == (SinkSaslPasswordFile is null))
            throw new ConfigurationException($"{Describe(AgentSettings.SinkSasl)} needs its password from exactly one of {AgentSettings.SinkSaslPasswordEnv.Flag} NAME or {AgentSettings.SinkSaslPasswordFile.Flag} FILE.");
        if (SinkSaslPasswordEnv is not null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SinkSaslPasswordEnv)))
            throw new ConfigurationException($"{Describe(AgentSettings.SinkSaslPasswordEnv)}: environment variable {SinkSaslPasswordEnv} is not set; export it with the password.");
        if (SinkSaslPasswordFile is not null && !File.Exists(SinkSaslPasswordFile))
            throw new ConfigurationException($"{Describe(AgentSettings.SinkSaslPasswordFile)}: {SinkSaslPasswordFile}: no such file.");
    }

    internal AgentOptions Build(string workingDirectory)
    {
        var data = Path.GetFullPath(Data, workingDirectory);

        if (Role == NodeRole.Edge && IsExplicit(AgentSettings.Uplink))
            throw new ConfigurationException($"{Describe(AgentSettings.Uplink)}: only gateway and cloud nodes accept uplinks; an edge connects to its --parent instead.");
        if (Role == NodeRole.Cloud && Parents.Count > 0)
            throw new ConfigurationException($"{Describe(AgentSettings.Parents)}: a cloud node is the top tier and has no parent.");
        if (Fsync == FsyncPolicy.Group && FsyncInterval <= TimeSpan.Zero)
            throw new ConfigurationException($"{Describe(AgentSettings.FsyncInterval)}: must be greater than zero.");
        if (FlushInterval <= TimeSpan.Zero)
            throw new ConfigurationException($"{Describe(AgentSettings.FlushInterval)}: must be greater than zero.");
        if (RetentionCheckInterval <= TimeSpan.Zero)
            throw new ConfigurationException($"{Describe(AgentSettings.RetentionCheckInterval)}: must be greater than zero.");
        foreach (var source in Cdc)
        {
            if (Cdc.Count(c => c.Name == source.Name) > 1)
                throw new ConfigurationException($"{Describe(AgentSettings.Cdc)}: two sources are named '{source.Name}'; give each source its own name.");
            if (Cdc.Count(c => c.Slot == source.Slot && c.Host == source.Host && c.Port == source.Port) > 1)
                throw new ConfigurationException($"{Describe(AgentSettings.Cdc)}: two sources use slot '{source.Slot}'; give each its own slot=.");
        }
        if (FsyncInterval > TimeSpan.FromSeconds(10))
            throw new ConfigurationException($"{Describe(AgentSettings.FsyncInterval)}: must be at most 10s.");
        if (SegmentBytes < 1024 || SegmentBytes > TopicConfig.MaxSegmentBytes)
            throw new ConfigurationException($"{Describe(AgentSettings.SegmentBytes)}: must be between 1KiB and {AgentSettings.Parsers.ExactSize(TopicConfig.MaxSegmentBytes)}.");
        if (RetentionBytes is < -1 or 0)
            throw new ConfigurationException($"{Describe(AgentSettings.RetentionBytes)}: must be positive, or 'none'.");
        if (Retention is { } age && age <= TimeSpan.Zero)
            throw new ConfigurationException($"{Describe(AgentSettings.Retention)}: must be positive, or 'forever'.");

        if (UplinkMaxBackoff < TimeSpan.FromMilliseconds(100) || UplinkMaxBackoff > TimeSpan.FromHours(1))
            throw new ConfigurationException($"{Describe(AgentSettings.UplinkMaxBackoff)}: must be between 100ms and 1h.");
        if (Sink is not null && Role != NodeRole.Cloud)
            throw new ConfigurationException($"{Describe(AgentSettings.Sink)}: only a cloud node sinks into an external Kafka cluster; lower tiers forward to their --parent.");
        if (SinkGapWait < TimeSpan.Zero || SinkGapWait > TimeSpan.FromHours(24))
            throw new ConfigurationException($"{Describe(AgentSettings.SinkGapWait)}: must be between 0 and 24h.");
        ValidateSinkSecurity();
        if (FleetReportInterval < TimeSpan.FromMilliseconds(100) || FleetReportInterval > TimeSpan.FromHours(1))
            throw new ConfigurationException($"{Describe(AgentSettings.FleetReportInterval)}: must be between 100ms and 1h.");
        if (FleetStaleAfter <= FleetReportInterval)
            throw new ConfigurationException($"{Describe(AgentSettings.FleetStaleAfter)}: must be longer than {AgentSettings.FleetReportInterval.Flag}.");

        if (KafkaMaxRequestBytes < 1024 || KafkaMaxRequestBytes > int.MaxValue)
            throw new ConfigurationException($"{Describe(AgentSettings.KafkaMaxRequest)}: must be between 1KiB and 2GiB.");
        if (MqttMaxPacketBytes < EdgeStream.Mqtt.Limits.MqttLimits.MinPacketBytes || MqttMaxPacketBytes > EdgeStream.Mqtt.Limits.MqttLimits.MaxPacketBytesLimit)
            throw new ConfigurationException($"{Describe(AgentSettings.MqttMaxPacket)}: must be between 1KiB and 256MiB.");
        if (UplinkMaxFrameBytes < 1024 || UplinkMaxFrameBytes > 1L << 30)
            throw new ConfigurationException($"{Describe(AgentSettings.UplinkMaxFrame)}: must be between 1KiB and 1GiB.");

        // Two listeners on one port cannot both bind; say which two.
        var listeners = new List<(SettingDescriptor Setting, HostPort Address)>
        {
            (AgentSettings.Kafka, Kafka), (AgentSettings.Mqtt, Mqtt), (AgentSettings.Http, Http), (AgentSettings.Gossip, Gossip),
        };
        if (Role != NodeRole.Edge) listeners.Add((AgentSettings.Uplink, Uplink));
        for (var i = 0; i < listeners.Count; i++)
        {
            for (var j = i + 1; j < listeners.Count; j++)
            {
                if (listeners[i].Address.Port == listeners[j].Address.Port)
                    throw new ConfigurationException(
                        $"{Describe(listeners[i].Setting)} and {Describe(listeners[j].Setting)} both use port {listeners[i].Address.Port}.");
            }
        }

        if ((TlsCert is null) != (TlsKey is null))
            throw new ConfigurationException($"{Describe(AgentSettings.TlsCert)} and {Describe(AgentSettings.TlsKey)} go together: give both, or neither for clear text.");
        if (TlsCa is not null && TlsCert is null)
            throw new ConfigurationException($"{Describe(AgentSettings.TlsCa)} needs {Describe(AgentSettings.TlsCert)} and {Describe(AgentSettings.TlsKey)}: between tiers both ends present a certificate.");
        if (TlsCert is not null && TlsCa is null && Role != NodeRole.Edge)
            throw new ConfigurationException($"with {Describe(AgentSettings.TlsCert)} a {Role.ToText()} node needs --tls-ca: it accepts uplinks only from children whose certificates the fleet CA issued.");
        if (TlsCert is not null && TlsCa is null && Parents.Count > 0)
            throw new ConfigurationException($"with {Describe(AgentSettings.TlsCert)} and --parent a node needs --tls-ca: it trusts a parent only if the fleet CA issued the parent's certificate.");

        if (TlsClientAuth == EdgeStream.Security.Tls.TlsClientAuth.Required && TlsCa is null)
            throw new ConfigurationException($"{Describe(AgentSettings.TlsClientAuth)}: 'required' needs --tls-cert, --tls-key and --tls-ca: client certificates are verified against the fleet CA.");

        return new AgentOptions
        {
            Role = Role,
            NodeId = NodeId,
            DataDirectory = data,
            Kafka = Kafka,
            KafkaAdvertised = KafkaAdvertised,
            KafkaMaxRequestBytes = KafkaMaxRequestBytes,
            KafkaBrokerId = KafkaBrokerId,
            KafkaFetchSessions = KafkaFetchSessions,
            KafkaGroupConsumerSessionTimeout = KafkaGroupConsumerSessionTimeout,
            KafkaGroupConsumerHeartbeatInterval = KafkaGroupConsumerHeartbeatInterval,
            AutoCreateTopics = AutoCreateTopics,
            Partitions = Partitions,
            Mqtt = Mqtt,
            MqttMap = MqttMap,
            MqttEngine = MqttEngine,
            MqttLimits = new EdgeStream.Mqtt.Limits.MqttLimits
            {
                MaxPacketBytes = (int)MqttMaxPacketBytes,
                MaxConnections = MqttMaxConnections,
                MaxInflight = MqttMaxInflight,
                MaxQueued = MqttMaxQueued,
                MaxKeepAliveSeconds = MqttMaxKeepAliveSeconds,
            },
            Http = Http,
            HttpToken = HttpToken,
            Uplink = Role == NodeRole.Edge ? null : Uplink,
            UplinkMaxFrameBytes = UplinkMaxFrameBytes,
            Parents = Parents,
            Mdns = Mdns,
            Cluster = Cluster,
            Gossip = Gossip,
            Seeds = Seeds,
            GossipKeys = GossipKeys,
            Cdc = Cdc,
            UplinkTopics = UplinkTopics,
            UplinkPrefix = UplinkPrefix,
            UplinkRename = UplinkRename,
            UplinkRateBytesPerSecond = UplinkRateBytesPerSecond,
            UplinkMaxBackoff = UplinkMaxBackoff,
            Sink = Sink,
            SinkTopics = SinkTopics,
            SinkTopicPrefix = SinkTopicPrefix,
            SinkTopicMap = SinkTopicMap,
            SinkGapWait = SinkGapWait,
            SinkTlsCa = SinkTlsCa is null || SinkTlsCa.Equals("system", StringComparison.OrdinalIgnoreCase) ? SinkTlsCa?.ToLowerInvariant() : System.IO.Path.GetFullPath(SinkTlsCa),
            SinkTlsCert = SinkTlsCert is null ? null : System.IO.Path.GetFullPath(SinkTlsCert),
            SinkTlsKey = SinkTlsKey is null ? null : System.IO.Path.GetFullPath(SinkTlsKey),
            SinkSasl = SinkSasl,
            SinkSaslUsername = SinkSaslUsername,
            SinkSaslPasswordEnv = SinkSaslPasswordEnv,
            SinkSaslPasswordFile = SinkSaslPasswordFile is null ? null : System.IO.Path.GetFullPath(SinkSaslPasswordFile),
            FilesDir = FilesDir is null ? null : System.IO.Path.GetFullPath(FilesDir),
            TlsCert = TlsCert is null ? null : System.IO.Path.GetFullPath(TlsCert),
            TlsKey = TlsKey is null ? null : System.IO.Path.GetFullPath(TlsKey),
            TlsCa = TlsCa is null ? null : System.IO.Path.GetFullPath(TlsCa),
            TlsClientAuth = TlsClientAuth,
            KafkaSasl = KafkaSasl,
            MqttAuth = MqttAuth,
            SuperUsers = SuperUsers,
            Authorizer = Authorizer,
            RevokedNodes = RevokedNodes,
            MetricsMaxTopics = MetricsMaxTopics,
            FleetReportInterval = FleetReportInterval,
            FleetStaleAfter = FleetStaleAfter,
            Fsync = Fsync,
            FsyncInterval = FsyncInterval,
            FlushInterval = FlushInterval,
            MaxDiskBytes = MaxDiskBytes,
            DiskFullPolicy = DiskFullPolicy,
            SegmentBytes = SegmentBytes,
            RetentionBytes = RetentionBytes,
            Retention = Retention,
            RetentionCheckInterval = RetentionCheckInterval,
            Profile = Profile,
            MemoryLimitBytes = MemoryLimitBytes,
            LogLevel = LogLevel,
            ConfigFile = ConfigFile,
        };
    }
}

public enum SettingSourceKind { Default, ConfigFile, Environment, Flag }

/// <summary>Where one value came from.</summary>
public readonly record struct SettingSource(SettingSourceKind Kind, string? File = null)
{
    public string Describe(SettingDescriptor setting) => Kind switch
    {
        SettingSourceKind.Flag => $"command-line flag {setting.Flag}",
        SettingSourceKind.Environment => $"environment variable {setting.EnvironmentVariable}",
        SettingSourceKind.ConfigFile => $"config file {File}, key \"{setting.JsonKey}\"",
        _ => "default",
    };
}
