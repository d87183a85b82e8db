using System.Globalization;
using EdgeStream.Storage;
using Serilog.Events;

namespace EdgeStream.Hosting.Configuration;

/// <summary>
/// THE table of agent settings. Adding a setting is one line here plus a property on
/// <see cref="AgentOptions"/>: the command line, <c>--help</c>, environment variables and the
/// config file all read this table. Precedence: flag &gt; environment &gt; config file &gt; default.
/// </summary>
public static class AgentSettings
{
    //                                       name              flag                 environment variable              json key          value name            default
    public static readonly Setting<string?> Config = new("config", "--config", "EDGESTREAM_CONFIG", null, "FILE", null, v => v, (b, v) => b.ConfigFile = v,
        "JSON config file holding any of these settings (camelCase keys, e.g. \"nodeId\").");
    public static readonly Setting<NodeRole> Role = new("role", "--role", "EDGESTREAM_ROLE", "role", "edge|gateway|cloud", "edge", Parsers.Role, (b, v) => b.Role = v,
        "The tier this node runs as.");
    public static readonly Setting<string> NodeId = new("nodeId", "--node-id", "EDGESTREAM_NODE_ID", "nodeId", "ID", null, Parsers.NodeId, (b, v) => b.NodeId = v,
        "Node id (1-64 of A-Z a-z 0-9 . _ -). Kept in {data}/meta.db; a different value renames the node.", "generated once: {role}-xxxxxxxx");
    public static readonly Setting<string> Data = new("data", "--data", "EDGESTREAM_DATA", "data", "DIR", "./data", Parsers.Path, (b, v) => b.Data = v,
        "Data directory: log segments, meta.db and the agent's own logs.");
    public static readonly Setting<HostPort> Kafka = new("kafka", "--kafka", "EDGESTREAM_KAFKA", "kafka", "HOST:PORT", "0.0.0.0:9092", Parsers.Listen, (b, v) => b.Kafka = v,
        "Kafka wire-protocol listener (data port).");
    public static readonly Setting<HostPort?> KafkaAdvertised = new("kafkaAdvertised", "--kafka-advertised", "EDGESTREAM_KAFKA_ADVERTISED", "kafkaAdvertised", "HOST:PORT", null, s => Parsers.Connect(s), (b, v) => b.KafkaAdvertised = v,
        "Address Kafka clients are told to connect to.", "the address the client reached");
    public static readonly Setting<long> KafkaMaxRequest = new("kafkaMaxRequest", "--kafka-max-request", "EDGESTREAM_KAFKA_MAX_REQUEST", "kafkaMaxRequest", "SIZE", "100MiB", Parsers.Size, (b, v) => b.KafkaMaxRequestBytes = v,
        "Largest Kafka request accepted (socket.request.max.bytes); a larger frame closes the connection.");
    public static readonly Setting<int> KafkaBrokerId = new("kafkaBrokerId", "--kafka-broker-id", "EDGESTREAM_KAFKA_BROKER_ID", "kafkaBrokerId", "N", "1", Parsers.Count(0, int.MaxValue), (b, v) => b.KafkaBrokerId = v,
        "The broker id Kafka clients see (Metadata, FindCoordinator, DescribeCluster, replica assignments); some tools and test suites expect 0.");
    public static readonly Setting<int> KafkaFetchSessions = new("kafkaFetchSessions", "--kafka-fetch-sessions", "EDGESTREAM_KAFKA_FETCH_SESSIONS", "kafkaFetchSessions", "N", "1000", Parsers.Count(0, 1_000_000), (b, v) => b.KafkaFetchSessions = v,
        "Incremental fetch sessions (KIP-227) kept at once (max.incremental.fetch.session.cache.slots), least recently used evicted first; 0: off.");
    public static readonly Setting<TimeSpan> KafkaGroupConsumerSessionTimeout = new("kafkaGroupConsumerSessionTimeout", "--kafka-group-consumer-session-timeout", "EDGESTREAM_KAFKA_GROUP_CONSUMER_SESSION_TIMEOUT", "kafkaGroupConsumerSessionTimeout", "DURATION", "45s", Parsers.Duration, (b, v) => b.KafkaGroupConsumerSessionTimeout = v,
        "Consumer-protocol groups (KIP-848, group.protocol=consumer): a member without a heartbeat this long is removed and its partitions reassigned (group.consumer.session.timeout.ms).");
    public static readonly Setting<TimeSpan> KafkaGroupConsumerHeartbeatInterval = new("kafkaGroupConsumerHeartbeatInterval", "--kafka-group-consumer-heartbeat-interval", "EDGESTREAM_KAFKA_GROUP_CONSUMER_HEARTBEAT_INTERVAL", "kafkaGroupConsumerHeartbeatInterval", "DURATION", "5s", Parsers.Duration, (b, v) => b.KafkaGroupConsumerHeartbeatInterval = v,
        "How often consumer-protocol group members are told to heartbeat (group.consumer.heartbeat.interval.ms); shorter than the session timeout.");
    public static readonly Setting<bool> AutoCreateTopics = new("autoCreateTopics", "--auto-create-topics", "EDGESTREAM_AUTO_CREATE_TOPICS", "autoCreateTopics", "true|false", "true", Parsers.Bool, (b, v) => b.AutoCreateTopics = v,
        "Create an unknown topic on its first produce or metadata request.");
    public static readonly Setting<int> Partitions = new("partitions", "--partitions", "EDGESTREAM_PARTITIONS", "partitions", "N", "1", Parsers.PartitionCount, (b, v) => b.Partitions = v,
        "Partitions of auto-created topics (and of CreateTopics asking for the default).");
    public static readonly Setting<HostPort> Mqtt = new("mqtt", "--mqtt", "EDGESTREAM_MQTT", "mqtt", "HOST:PORT", "0.0.0.0:1883", Parsers.Listen, (b, v) => b.Mqtt = v,
        "MQTT listener (data port).");
    public static readonly ListSetting<EdgeStream.Mqtt.MqttMapRule> MqttMap = new("mqttMap", "--mqtt-map", "EDGESTREAM_MQTT_MAP", "mqttMap", "FILTER=TOPIC", EdgeStream.Mqtt.MqttMapRule.Parse, (b, v) => b.MqttMap = v,
        "MQTT topic filter (+/# wildcards) to log topic; repeat, first match wins, implicit last rule #=mqtt. Kafka records in a mapped topic go out to MQTT (topic = key).");
    public static readonly Setting<long> MqttMaxPacket = new("mqttMaxPacket", "--mqtt-max-packet", "EDGESTREAM_MQTT_MAX_PACKET", "mqttMaxPacket", "SIZE", "1MiB", Parsers.Size, (b, v) => b.MqttMaxPacketBytes = v,
        "Largest MQTT packet accepted; a larger one closes the connection (MQTT 5: DISCONNECT 0x95).");
    public static readonly Setting<int> MqttMaxConnections = new("mqttMaxConnections", "--mqtt-max-connections", "EDGESTREAM_MQTT_MAX_CONNECTIONS", "mqttMaxConnections", "N", "10000", Parsers.Count(1, 1_000_000), (b, v) => b.MqttMaxConnections = v,
        "MQTT clients connected at once; beyond it CONNECT is refused (MQTT 5: 0x97, 3.1.1: server unavailable).");
    public static readonly Setting<int> MqttMaxInflight = new("mqttMaxInflight", "--mqtt-max-inflight", "EDGESTREAM_MQTT_MAX_INFLIGHT", "mqttMaxInflight", "N", "100", Parsers.Count(1, 65_535), (b, v) => b.MqttMaxInflight = v,
        "MQTT 5 Receive Maximum, and the QoS 2 messages a client may leave awaiting PUBREL before it is disconnected.");
    public static readonly Setting<int> MqttMaxQueued = new("mqttMaxQueued", "--mqtt-max-queued", "EDGESTREAM_MQTT_MAX_QUEUED", "mqttMaxQueued", "N", "100000", Parsers.Count(1, 10_000_000), (b, v) => b.MqttMaxQueued = v,
        "Messages queued per MQTT subscriber; beyond it the oldest is dropped (counted, logged).");
    public static readonly Setting<int> MqttMaxKeepAlive = new("mqttMaxKeepalive", "--mqtt-max-keepalive", "EDGESTREAM_MQTT_MAX_KEEPALIVE", "mqttMaxKeepalive", "SECONDS", "0", Parsers.Count(0, 65_535), (b, v) => b.MqttMaxKeepAliveSeconds = v,
        "Longest MQTT keep alive granted (own engine only): an MQTT 5 client asking for more, or for none, is told this as Server Keep Alive and timed out at 1.5 times it; 0: the client's value. MQTT 3.1.1 clients keep their own.");
    public static readonly Setting<EdgeStream.Mqtt.MqttEngine> MqttEngine = new("mqttEngine", "--mqtt-engine", "EDGESTREAM_MQTT_ENGINE", "mqttEngine", "own|mqttnet", "own", Parsers.MqttEngine, (b, v) => b.MqttEngine = v,
        "Which MQTT broker serves the MQTT listener: mqttnet (MQTTnet's server with our hooks) or own (EdgeStream's broker core on Kestrel, issue 16; not yet feature-complete).");
    public static readonly Setting<HostPort> Http = new("http", "--http", "EDGESTREAM_HTTP", "http", "HOST:PORT", "127.0.0.1:9094", Parsers.Listen, (b, v) => b.Http = v,
        "HTTP listener: dashboard /, /healthz, /readyz, /metrics, /v1/status, /v1/fleet, /v1/topics.");
    public static readonly Setting<string?> HttpToken = new("httpToken", "--http-token", "EDGESTREAM_HTTP_TOKEN", "httpToken", "TOKEN", null, Parsers.HttpToken, (b, v) => b.HttpToken = v,
        "Bearer token a request other than GET or HEAD to the HTTP listener must carry (Authorization: Bearer TOKEN), at least 16 characters; without it the HTTP API is read-only. Never logged.", "none: read-only")
        { Redactor = _ => "(token hidden)" };
    public static readonly Setting<HostPort> Uplink = new("uplink", "--uplink", "EDGESTREAM_UPLINK", "uplink", "HOST:PORT", "0.0.0.0:9095", Parsers.Listen, (b, v) => b.Uplink = v,
        "Listener for children's uplinks (gateway and cloud only).");
    public static readonly Setting<long> UplinkMaxFrame = new("uplinkMaxFrame", "--uplink-max-frame", "EDGESTREAM_UPLINK_MAX_FRAME", "uplinkMaxFrame", "SIZE", "16MiB", Parsers.Size, (b, v) => b.UplinkMaxFrameBytes = v,
        "Largest uplink frame (uncompressed) a child may send; a larger one is refused and its stream closed.");
    public static readonly ListSetting<HostPort> Parents = new("parents", "--parent", "EDGESTREAM_PARENT", "parents", "HOST:PORT", Parsers.Connect, (b, v) => b.Parents = v,
        "Upstream node to forward to; repeat for fallbacks (comma-separated in the environment).");
    public static readonly Setting<bool> Mdns = new("mdns", "--mdns", "EDGESTREAM_MDNS", "mdns", "on|off", "on", Parsers.Bool, (b, v) => b.Mdns = v,
        "Find the site's peers by mDNS on the LAN (and advertise this node); off: only --seeds.");
    public static readonly Setting<string> Cluster = new("cluster", "--cluster", "EDGESTREAM_CLUSTER", "cluster", "NAME", "edgestream", Parsers.NodeId, (b, v) => b.Cluster = v,
        "Fleet name (1-64 of A-Z a-z 0-9 . _ -): nodes of another cluster on the same LAN or seeds are ignored.");
    public static readonly Setting<HostPort> Gossip = new("gossip", "--gossip", "EDGESTREAM_GOSSIP", "gossip", "HOST:PORT", "0.0.0.0:7946", Parsers.Listen, (b, v) => b.Gossip = v,
        "Mesh membership (gossip) address, UDP and TCP on the same port.");
    public static readonly ListSetting<HostPort> Seeds = new("seeds", "--seeds", "EDGESTREAM_SEEDS", "seeds", "HOST:PORT", Parsers.Connect, (b, v) => b.Seeds = v,
        "Gossip address of a mesh member to join through (edge: site; gateway, cloud: upstream); repeat (comma-separated in the environment).");
    public static readonly ListSetting<byte[]> GossipKeys = new("gossipKeys", "--gossip-key", "EDGESTREAM_GOSSIP_KEY", "gossipKeys", "BASE64", Parsers.GossipKey, (b, v) => b.GossipKeys = v,
        "Cluster key (base64 of 16, 24 or 32 random bytes) gossip is authenticated and encrypted with (AES-GCM); repeat (comma-separated in the environment) during a rotation: the first seals what is sent, every one is tried on what arrives. With a key, clear-text gossip is dropped.")
        { Redactor = _ => "(key hidden)" };
    public static readonly ListSetting<EdgeStream.Cdc.CdcSourceOptions> Cdc = new("cdc", "--cdc", "EDGESTREAM_CDC", "cdc", "NAME=postgres://USER@HOST:PORT/DB?tables=S.T,...", EdgeStream.Cdc.CdcSourceOptions.Parse, (b, v) => b.Cdc = v,
        "PostgreSQL change-data-capture source; repeat for more (';'-separated in the environment). Options after '?': tables, publication, topicPrefix (default cdc.NAME.), slot, snapshot=initial|never|when-needed, maxSlotLag (1GiB), chunkRows, heartbeat, passwordEnv=VAR or passwordFile=PATH (never a password in the URL).",
        environmentSeparator: ';') { Redactor = EdgeStream.Cdc.CdcSourceOptions.Redact };
    public static readonly Setting<IReadOnlyList<string>> UplinkTopics = new("uplinkTopics", "--uplink-topics", "EDGESTREAM_UPLINK_TOPICS", "uplinkTopics", "GLOB[,GLOB]", "*", Parsers.Globs, (b, v) => b.UplinkTopics = v,
        "Topics forwarded to the parent (* and ? wildcards); internal topics (__*) never are.");
    public static readonly Setting<string?> UplinkPrefix = new("uplinkPrefix", "--uplink-prefix", "EDGESTREAM_UPLINK_PREFIX", "uplinkPrefix", "PREFIX", null, Parsers.TopicPrefix, (b, v) => b.UplinkPrefix = v,
        "Prepended to a forwarded topic's name at the parent (not to renamed topics).", "none");
    public static readonly ListSetting<KeyValuePair<string, string>> UplinkRename = new("uplinkRename", "--uplink-rename", "EDGESTREAM_UPLINK_RENAME", "uplinkRename", "SRC=DST", Parsers.Rename, (b, v) => b.UplinkRename = v,
        "Forward local topic SRC as DST at the parent; repeat for more.");
    public static readonly Setting<long> UplinkRate = new("uplinkRate", "--uplink-rate", "EDGESTREAM_UPLINK_RATE", "uplinkRate", "SIZE/s", "none", Parsers.Rate, (b, v) => b.UplinkRateBytesPerSecond = v,
        "Bandwidth cap of the uplink (compressed payload bytes per second).");
    public static readonly Setting<TimeSpan> UplinkMaxBackoff = new("uplinkMaxBackoff", "--uplink-max-backoff", "EDGESTREAM_UPLINK_MAX_BACKOFF", "uplinkMaxBackoff", "DURATION", "30s", Parsers.Duration, (b, v) => b.UplinkMaxBackoff = v,
        "Longest wait between uplink reconnect attempts (exponential backoff with jitter).");
    public static readonly Setting<IReadOnlyList<string>?> Sink = new("sink", "--sink", "EDGESTREAM_SINK", "sink", "kafka://HOST:PORT[,HOST:PORT]", null, s => EdgeStream.Sink.SinkOptions.ParseUrl(s), (b, v) => b.Sink = v,
        "Cloud only: forward every record children send (and every record produced here) into this external Kafka cluster, exactly once per origin record.", "none");
    public static readonly Setting<IReadOnlyList<string>> SinkTopics = new("sinkTopics", "--sink-topics", "EDGESTREAM_SINK_TOPICS", "sinkTopics", "GLOB[,GLOB]", "*", Parsers.Globs, (b, v) => b.SinkTopics = v,
        "Topics forwarded by --sink (* and ? wildcards); internal topics (__*) never are.");
    public static readonly Setting<string?> SinkTopicPrefix = new("sinkTopicPrefix", "--sink-topic-prefix", "EDGESTREAM_SINK_TOPIC_PREFIX", "sinkTopicPrefix", "PREFIX", null, Parsers.TopicPrefix, (b, v) => b.SinkTopicPrefix = v,
        "Prepended to a topic's name at the external cluster (not to mapped topics).", "none");
    public static readonly ListSetting<KeyValuePair<string, string>> SinkTopicMap = new("sinkTopicMap", "--sink-topic-map", "EDGESTREAM_SINK_TOPIC_MAP", "sinkTopicMap", "LOCAL=REMOTE", Parsers.Rename, (b, v) => b.SinkTopicMap = v,
        "Forward local topic LOCAL as REMOTE at the external cluster; repeat for more.");
    public static readonly Setting<TimeSpan> SinkGapWait = new("sinkGapWait", "--sink-gap-wait", "EDGESTREAM_SINK_GAP_WAIT", "sinkGapWait", "DURATION", "60s", Parsers.Duration, (b, v) => b.SinkGapWait = v,
        "How long the sink holds an origin's records when the external cluster lacks the ones before them (another cloud node may still deliver those) before writing them out of order.");
    public static readonly Setting<string?> SinkTlsCa = new("sinkTlsCa", "--sink-tls-ca", "EDGESTREAM_SINK_TLS_CA", "sinkTlsCa", "FILE|system", null, Parsers.Path, (b, v) => b.SinkTlsCa = v,
        "TLS toward the --sink cluster (SSL, or SASL_SSL with --sink-sasl): its brokers' certificates must chain to the CA certificates in FILE (PEM), and only to them, and name the host dialled. 'system' trusts the system's CAs instead.", "none: clear text");
    public static readonly Setting<string?> SinkTlsCert = new("sinkTlsCert", "--sink-tls-cert", "EDGESTREAM_SINK_TLS_CERT", "sinkTlsCert", "FILE", null, Parsers.Path, (b, v) => b.SinkTlsCert = v,
        "Client certificate (PEM) presented to the --sink cluster (mTLS), with --sink-tls-key and --sink-tls-ca.", "none");
    public static readonly Setting<string?> SinkTlsKey = new("sinkTlsKey", "--sink-tls-key", "EDGESTREAM_SINK_TLS_KEY", "sinkTlsKey", "FILE", null, Parsers.Path, (b, v) => b.SinkTlsKey = v,
        "The private key of --sink-tls-cert (PEM).", "none");
    public static readonly Setting<string?> SinkSasl = new("sinkSasl", "--sink-sasl", "EDGESTREAM_SINK_SASL", "sinkSasl", "MECH", "none", Parsers.SaslMechanism, (b, v) => b.SinkSasl = v,
        "SASL mechanism the sink authenticates to the --sink cluster with: plain, scram-sha-256 or scram-sha-512 (SASL_PLAINTEXT, or SASL_SSL with --sink-tls-ca); needs --sink-sasl-username and a password from --sink-sasl-password-env or --sink-sasl-password-file.", "none: no authentication");
    public static readonly Setting<string?> SinkSaslUsername = new("sinkSaslUsername", "--sink-sasl-username", "EDGESTREAM_SINK_SASL_USERNAME", "sinkSaslUsername", "USER", null, Parsers.SaslUser, (b, v) => b.SinkSaslUsername = v,
        "The user --sink-sasl authenticates as.", "none");
    public static readonly Setting<string?> SinkSaslPasswordEnv = new("sinkSaslPasswordEnv", "--sink-sasl-password-env", "EDGESTREAM_SINK_SASL_PASSWORD_ENV", "sinkSaslPasswordEnv", "NAME", null, Parsers.EnvironmentName, (b, v) => b.SinkSaslPasswordEnv = v,
        "The environment variable holding the --sink-sasl password (never a password on the command line or in the config file; it is never logged).", "none");
    public static readonly Setting<string?> SinkSaslPasswordFile = new("sinkSaslPasswordFile", "--sink-sasl-password-file", "EDGESTREAM_SINK_SASL_PASSWORD_FILE", "sinkSaslPasswordFile", "FILE", null, Parsers.Path, (b, v) => b.SinkSaslPasswordFile = v,
        "A file holding the --sink-sasl password (one line, a trailing newline is dropped), instead of --sink-sasl-password-env.", "none");
    public static readonly Setting<string?> FilesDir = new("filesDir", "--files-dir", "EDGESTREAM_FILES_DIR", "filesDir", "DIR", null, Parsers.Path, (b, v) => b.FilesDir = v,
        "Materialize files sent with 'edgestream send' (topic files) under DIR/{origin node}/{path}, verified and atomically renamed into place.", "none");
    public static readonly Setting<string?> TlsCert = new("tlsCert", "--tls-cert", "EDGESTREAM_TLS_CERT", "tlsCert", "FILE", null, Parsers.Path, (b, v) => b.TlsCert = v,
        "This node's certificate (PEM, e.g. from 'edgestream certs issue'): TLS on every listener (Kafka SSL, MQTT, HTTP, uplink) and the client certificate toward the parent.", "none: clear text");
    public static readonly Setting<string?> TlsKey = new("tlsKey", "--tls-key", "EDGESTREAM_TLS_KEY", "tlsKey", "FILE", null, Parsers.Path, (b, v) => b.TlsKey = v,
        "The private key of --tls-cert (PEM).", "none");
    public static readonly Setting<string?> TlsCa = new("tlsCa", "--tls-ca", "EDGESTREAM_TLS_CA", "tlsCa", "FILE", null, Parsers.Path, (b, v) => b.TlsCa = v,
        "The fleet CA (PEM): a parent accepts an uplink only with a client certificate it issued, naming the node id the child claims; a child accepts only a parent it issued.", "none");
    public static readonly Setting<EdgeStream.Security.Tls.TlsClientAuth> TlsClientAuth = new("tlsClientAuth", "--tls-client-auth", "EDGESTREAM_TLS_CLIENT_AUTH", "tlsClientAuth", "none|requested|required", "requested", Parsers.ClientAuth, (b, v) => b.TlsClientAuth = v,
        "Client certificates on the Kafka and MQTT listeners (Kafka's ssl.client.auth), with --tls-cert and --tls-ca: requested = asked for, optional; required = a client without one fails the handshake; none = not asked for. A certificate presented must be issued by --tls-ca; it authenticates User:NODE_ID (its edgestream://node/ URI) or User:CN.");
    public static readonly Setting<IReadOnlyList<string>> KafkaSasl = new("kafkaSasl", "--kafka-sasl", "EDGESTREAM_KAFKA_SASL", "kafkaSasl", "MECH[,MECH]", "none", Parsers.SaslMechanisms, (b, v) => b.KafkaSasl = v,
        "SASL mechanisms the Kafka listener requires a client to authenticate with: plain, scram-sha-256, scram-sha-512 (users: 'edgestream users add'). SASL_PLAINTEXT, or SASL_SSL with --tls-cert.", "none: no authentication");
    public static readonly Setting<bool> MqttAuth = new("mqttAuth", "--mqtt-auth", "EDGESTREAM_MQTT_AUTH", "mqttAuth", "none|required", "none", Parsers.AuthRequired, (b, v) => b.MqttAuth = v,
        "required: an MQTT CONNECT must carry the user name and password of one of the node's users (the same users as Kafka SASL).");
    public static readonly Setting<IReadOnlyList<string>> SuperUsers = new("superUsers", "--super-users", "EDGESTREAM_SUPER_USERS", "superUsers", "User:NAME[,User:NAME]", "none", Parsers.Principals, (b, v) => b.SuperUsers = v,
        "Principals allowed to manage users over Kafka (DescribeUserScramCredentials, AlterUserScramCredentials, e.g. kafka-configs) and, with --authorizer on, allowed everything whatever the ACLs say.");
    public static readonly Setting<bool> Authorizer = new("authorizer", "--authorizer", "EDGESTREAM_AUTHORIZER", "authorizer", "on|off", "off", Parsers.Bool, (b, v) => b.Authorizer = v,
        "on: Kafka and MQTT requests are checked against the node's ACLs ('edgestream acls', CreateAcls); no ACL means denied, as in Kafka. off: everyone may do everything.");
    public static readonly Setting<IReadOnlyList<string>> RevokedNodes = new("revokedNodes", "--revoked-nodes", "EDGESTREAM_REVOKED_NODES", "revokedNodes", "ID[,ID]", "none", Parsers.NodeIds, (b, v) => b.RevokedNodes = v,
        "Node ids added to the deny list at start (gateway and cloud): their uplinks, and records relayed from them, are refused. The list is kept in meta.db and managed with 'edgestream nodes' or /v1/nodes/revoked.");
    public static readonly Setting<int> MetricsMaxTopics = new("metricsMaxTopics", "--metrics-max-topics", "EDGESTREAM_METRICS_MAX_TOPICS", "metricsMaxTopics", "N", "100", Parsers.Count(0, 100_000), (b, v) => b.MetricsMaxTopics = v,
        "Topics given their own label in /metrics; the others are summed under topic=\"_other\" (keeps the series count bounded).");
    public static readonly Setting<TimeSpan> FleetReportInterval = new("fleetReportInterval", "--fleet-report-interval", "EDGESTREAM_FLEET_REPORT_INTERVAL", "fleetReportInterval", "DURATION", "5s", Parsers.Duration, (b, v) => b.FleetReportInterval = v,
        "How often a node sends its status (and its children's) to its parent for /v1/fleet.");
    public static readonly Setting<TimeSpan> FleetStaleAfter = new("fleetStaleAfter", "--fleet-stale-after", "EDGESTREAM_FLEET_STALE_AFTER", "fleetStaleAfter", "DURATION", "30s", Parsers.Duration, (b, v) => b.FleetStaleAfter = v,
        "A node in /v1/fleet not heard from for this long is marked stale.");
    public static readonly Setting<FsyncPolicy> Fsync = new("fsync", "--fsync", "EDGESTREAM_FSYNC", "fsync", "always|group|os", "group", Parsers.Fsync, (b, v) => b.Fsync = v,
        "When appends are fsynced: each append, a group-commit window, or left to the OS (flushed every --flush-interval).");
    public static readonly Setting<TimeSpan> FsyncInterval = new("fsyncInterval", "--fsync-interval", "EDGESTREAM_FSYNC_INTERVAL", "fsyncInterval", "DURATION", "2ms", Parsers.Duration, (b, v) => b.FsyncInterval = v,
        "Group-commit window for --fsync group.");
    public static readonly Setting<TimeSpan> FlushInterval = new("flushInterval", "--flush-interval", "EDGESTREAM_FLUSH_INTERVAL", "flushInterval", "DURATION", "1s", Parsers.Duration, (b, v) => b.FlushInterval = v,
        "Background fsync period for --fsync os.");
    public static readonly Setting<long> MaxDisk = new("maxDisk", "--max-disk", "EDGESTREAM_MAX_DISK", "maxDisk", "SIZE", "none", Parsers.SizeOrNone(0), (b, v) => b.MaxDiskBytes = v,
        "Disk budget for the log; once it is full, appends are refused with a clear error (nothing accepted is lost) unless drop-oldest topics can make room (--disk-full-policy).");
    public static readonly Setting<EdgeStream.Storage.DiskFullPolicy> DiskFullPolicy = new("diskFullPolicy", "--disk-full-policy", "EDGESTREAM_DISK_FULL_POLICY", "diskFullPolicy", "block|drop-oldest", "block", Parsers.DiskFull, (b, v) => b.DiskFullPolicy = v,
        "disk.full.policy of new topics once --max-disk is full: refuse appends, or delete the oldest closed segments of drop-oldest topics (lowest uplink.priority first).");
    public static readonly Setting<long> SegmentBytes = new("segmentBytes", "--segment-bytes", "EDGESTREAM_SEGMENT_BYTES", "segmentBytes", "SIZE", Parsers.ExactSize(TopicConfig.Default.SegmentBytes), Parsers.Size, (b, v) => b.SegmentBytes = v,
        "Segment size of new topics.");
    public static readonly Setting<long> RetentionBytes = new("retentionBytes", "--retention-bytes", "EDGESTREAM_RETENTION_BYTES", "retentionBytes", "SIZE", TopicConfig.Default.RetentionBytes < 0 ? "none" : Parsers.ExactSize(TopicConfig.Default.RetentionBytes), Parsers.SizeOrNone(-1), (b, v) => b.RetentionBytes = v,
        "Per-partition size retention of new topics.");
    public static readonly Setting<TimeSpan?> Retention = new("retention", "--retention", "EDGESTREAM_RETENTION", "retention", "DURATION", Parsers.ExactDuration(TopicConfig.Default.RetentionAge), Parsers.DurationOrForever, (b, v) => b.Retention = v,
        "Age retention of new topics ('forever' keeps everything).");
    public static readonly Setting<TimeSpan> RetentionCheckInterval = new("retentionCheckInterval", "--retention-check-interval", "EDGESTREAM_RETENTION_CHECK_INTERVAL", "retentionCheckInterval", "DURATION", "30s", Parsers.Duration, (b, v) => b.RetentionCheckInterval = v,
        "How often expired or oversize segments are deleted.");
    public static readonly Setting<MemoryProfile> Profile = new("profile", "--profile", "EDGESTREAM_PROFILE", "profile", "auto|default|small", "auto", MemoryProfiles.Parse, (b, v) => b.Profile = v,
        "Memory profile: small = workstation non-concurrent GC conserving memory and smaller connection buffers, for small devices; auto = small below 1 GiB of available memory (RAM or cgroup limit).");
    public static readonly Setting<long> MemoryLimit = new("memoryLimit", "--memory-limit", "EDGESTREAM_MEMORY_LIMIT", "memoryLimit", "SIZE", "none", Parsers.SizeOrNone(0), (b, v) => b.MemoryLimitBytes = v,
        "Memory the node should stay within; the GC heap gets a hard limit of 75% of it.");
    public static readonly Setting<LogEventLevel> LogLevel = new("logLevel", "--log-level", "EDGESTREAM_LOG_LEVEL", "logLevel", "LEVEL", "information", Parsers.LogLevel, (b, v) => b.LogLevel = v,
        "verbose|debug|information|warning|error|fatal.");

    /// <summary>Every setting, in help order.</summary>
    public static IReadOnlyList<SettingDescriptor> All { get; } =
    [
        Role, NodeId, Data, Config, Kafka, KafkaAdvertised, KafkaMaxRequest, KafkaBrokerId, KafkaFetchSessions, KafkaGroupConsumerSessionTimeout, KafkaGroupConsumerHeartbeatInterval, AutoCreateTopics, Partitions, Mqtt, MqttMap, MqttMaxPacket, MqttMaxConnections, MqttMaxInflight, MqttMaxQueued, MqttMaxKeepAlive, MqttEngine, Http, HttpToken, Uplink, UplinkMaxFrame, Parents,
        Mdns, Cluster, Gossip, Seeds, GossipKeys, Cdc,
        UplinkTopics, UplinkPrefix, UplinkRename, UplinkRate, UplinkMaxBackoff, Sink, SinkTopics, SinkTopicPrefix, SinkTopicMap, SinkGapWait,
        SinkTlsCa, SinkTlsCert, SinkTlsKey, SinkSasl, SinkSaslUsername, SinkSaslPasswordEnv, SinkSaslPasswordFile, FilesDir, TlsCert, TlsKey, TlsCa, TlsClientAuth,
        KafkaSasl, MqttAuth, SuperUsers, Authorizer, RevokedNodes,
        MetricsMaxTopics, FleetReportInterval, FleetStaleAfter,
        Fsync, FsyncInterval, FlushInterval, MaxDisk, DiskFullPolicy, SegmentBytes, RetentionBytes, Retention, RetentionCheckInterval, Profile, MemoryLimit, LogLevel,
    ];

    /// <summary>The value parsers. Each throws <see cref="FormatException"/> whose message is the expected form.</summary>
    internal static class Parsers
    {
        public static NodeRole Role(string s) =>
            NodeRoleText.TryParse(s, out var r) ? r : throw new FormatException("expected edge, gateway or cloud");

        public static string NodeId(string s)
        {
            s = s.Trim();
            if (s.Length is < 1 or > 64) throw new FormatException("expected 1 to 64 characters");
            foreach (var c in s)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                    throw new FormatException("expected only letters, digits, '.', '_' and '-'");
            }
            return s;
        }

        public static string Path(string s) =>
            string.IsNullOrWhiteSpace(s) || s.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0
                ? throw new FormatException("expected a directory path")
                : s.Trim();

        public static HostPort Listen(string s) =>
            !HostPort.TryParse(s, out var hp)
                ? throw new FormatException("expected HOST:PORT with a port from 1 to 65535, e.g. 0.0.0.0:9092")
                : hp.IsBindable ? hp : throw new FormatException("a listener binds an IP address, 'localhost' or '*', not a host name");

        public static bool Bool(string s) => s.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw new FormatException("expected true or false"),
        };

        public static int PartitionCount(string s) =>
            int.TryParse(s.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 10_000
                ? n
                : throw new FormatException("expected a whole number from 1 to 10000");

        public static Func<string, int> Count(int min, int max) =>
            s => int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                ? n
                : throw new FormatException($"expected a whole number from {min} to {max}");

        public static HostPort Connect(string s) =>
            HostPort.TryParse(s, out var hp) ? hp : throw new FormatException("expected HOST:PORT with a port from 1 to 65535, e.g. gateway.local:9095");

        /// <summary>The HTTP token; the message never repeats the value (it is a secret).</summary>
        public static string HttpToken(string s)
        {
            s = s.Trim();
            if (s.Length < 16 || s.Length > 1024) throw new FormatException("expected 16 to 1024 characters");
            foreach (var c in s)
            {
                // RFC 6750's b64token characters, so the header carries it unchanged.
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/' or '='))
                    throw new FormatException("expected only letters, digits and - . _ ~ + / =");
            }
            return s;
        }

        /// <summary>A gossip key; the message never repeats the value (it is a secret).</summary>
        public static byte[] GossipKey(string s)
        {
            var bytes = new byte[48];
            return Convert.TryFromBase64String(s.Trim(), bytes, out var n) && EdgeStream.Mesh.Gossip.GossipKeyring.IsValidKeyLength(n)
                ? bytes[..n]
                : throw new FormatException("expected base64 of 16, 24 or 32 bytes, e.g. from 'head -c 32 /dev/urandom | base64'");
        }

        public static IReadOnlyList<string> Globs(string s)
        {
            var globs = new List<string>();
            foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                foreach (var c in part)
                {
                    if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '*' or '?'))
                        throw new FormatException("expected topic name patterns (letters, digits, '.', '_', '-', '*', '?'), comma-separated");
                }
                globs.Add(part);
            }
            return globs.Count > 0 ? globs : throw new FormatException("expected at least one topic name pattern, e.g. '*' or 'sensors.*'");
        }

        public static string? TopicPrefix(string s)
        {
            s = s.Trim();
            if (s.Length == 0) return null;
            if (s.Length > 200 || !EdgeStream.Storage.LogManager.IsValidTopicName(s))
                throw new FormatException("expected up to 200 of letters, digits, '.', '_' and '-'");
            return s;
        }

        public static KeyValuePair<string, string> Rename(string s)
        {
            var eq = s.IndexOf('=');
            var source = eq > 0 ? s[..eq].Trim() : "";
            var target = eq > 0 ? s[(eq + 1)..].Trim() : "";
            if (!EdgeStream.Storage.LogManager.IsValidTopicName(source) || !EdgeStream.Storage.LogManager.IsValidTopicName(target))
                throw new FormatException("expected SRC=DST, two topic names (letters, digits, '.', '_', '-')");
            return new(source, target);
        }

        public static long Rate(string s)
        {
            var t = s.Trim();
            if (t.ToLowerInvariant() is "none" or "-1" or "0") return 0;
            if (t.EndsWith("/s", StringComparison.OrdinalIgnoreCase)) t = t[..^2];
            return ByteSize.TryParse(t, out var b) && b > 0 ? b : throw new FormatException("expected bytes per second such as 512KiB/s or 10MB/s, or 'none'");
        }

        public static FsyncPolicy Fsync(string s) => s.Trim().ToLowerInvariant() switch
        {
            "always" => FsyncPolicy.Always,
            "group" => FsyncPolicy.Group,
            "os" => FsyncPolicy.Os,
            _ => throw new FormatException("expected always, group or os"),
        };

        public static EdgeStream.Mqtt.MqttEngine MqttEngine(string s) => s.Trim().ToLowerInvariant() switch
        {
            "mqttnet" => EdgeStream.Mqtt.MqttEngine.MqttNet,
            "own" => EdgeStream.Mqtt.MqttEngine.Own,
            _ => throw new FormatException("expected own or mqttnet"),
        };

        public static EdgeStream.Storage.DiskFullPolicy DiskFull(string s) => s.Trim().ToLowerInvariant() switch
        {
            "block" => EdgeStream.Storage.DiskFullPolicy.Block,
            "drop-oldest" => EdgeStream.Storage.DiskFullPolicy.DropOldest,
            _ => throw new FormatException("expected block or drop-oldest"),
        };

        public static IReadOnlyList<string> SaslMechanisms(string s)
        {
            var mechanisms = new List<string>();
            if (s.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return mechanisms;
            foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var name = part.ToUpperInvariant();
                if (name is not ("PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512"))
                    throw new FormatException("expected none, or one or more of plain, scram-sha-256, scram-sha-512, comma-separated");
                if (!mechanisms.Contains(name)) mechanisms.Add(name);
            }
            return mechanisms.Count > 0 ? mechanisms : throw new FormatException("expected none, or one or more of plain, scram-sha-256, scram-sha-512");
        }

        /// <summary>One SASL mechanism by its SASL name (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); null for none.</summary>
        public static string? SaslMechanism(string s)
        {
            var name = s.Trim().ToUpperInvariant();
            if (name == "NONE") return null;
            return name is "PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512" ? name : throw new FormatException("expected none, plain, scram-sha-256 or scram-sha-512");
        }

        public static string SaslUser(string s)
        {
            s = s.Trim();
            if (s.Length is < 1 or > 256) throw new FormatException("expected 1 to 256 characters");
            foreach (var c in s)
                if (char.IsControl(c)) throw new FormatException("expected no control characters");
            return s;
        }

        /// <summary>An environment variable name (letters, digits, '_', not starting with a digit).</summary>
        public static string EnvironmentName(string s)
        {
            s = s.Trim();
            if (s.Length == 0 || char.IsAsciiDigit(s[0])) throw new FormatException("expected an environment variable name, e.g. SINK_PASSWORD");
            foreach (var c in s)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) throw new FormatException("expected an environment variable name (letters, digits and '_'), e.g. SINK_PASSWORD");
            return s;
        }

        public static EdgeStream.Security.Tls.TlsClientAuth ClientAuth(string s) => s.Trim().ToLowerInvariant() switch
        {
            "none" => EdgeStream.Security.Tls.TlsClientAuth.None,
            "requested" => EdgeStream.Security.Tls.TlsClientAuth.Requested,
            "required" => EdgeStream.Security.Tls.TlsClientAuth.Required,
            _ => throw new FormatException("expected none, requested or required"),
        };

        public static bool AuthRequired(string s) => s.Trim().ToLowerInvariant() switch
        {
            "required" => true,
            "none" => false,
            _ => throw new FormatException("expected none or required"),
        };

        public static IReadOnlyList<string> Principals(string s)
        {
            var principals = new List<string>();
            if (s.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return principals;
            foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!part.StartsWith("User:", StringComparison.Ordinal) || !EdgeStream.Security.Authentication.UserAuthenticator.IsValidUserName(part[5..]))
                    throw new FormatException("expected principals such as User:admin, comma-separated");
                principals.Add(part);
            }
            return principals;
        }

        public static IReadOnlyList<string> NodeIds(string s)
        {
            var ids = new List<string>();
            if (s.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return ids;
            foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                try { ids.Add(NodeId(part)); }
                catch (FormatException ex) { throw new FormatException($"expected node ids, comma-separated ('{part}': {ex.Message})"); }
            }
            return ids;
        }

        public static TimeSpan Duration(string s) =>
            DurationText.TryParse(s, out var d) ? d : throw new FormatException("expected a duration such as 250ms, 30s, 15m, 12h or 7d");

        public static TimeSpan? DurationOrForever(string s) =>
            s.Trim().ToLowerInvariant() is "forever" or "none" or "-1" ? null : Duration(s);

        public static long Size(string s) =>
            ByteSize.TryParse(s, out var b) ? b : throw new FormatException("expected a size such as 4096, 64MB or 1.5GiB");

        public static Func<string, long> SizeOrNone(long none) =>
            s => s.Trim().ToLowerInvariant() is "none" or "-1" ? none : Size(s);

        public static LogEventLevel LogLevel(string s) => s.Trim().ToLowerInvariant() switch
        {
            "verbose" or "trace" => LogEventLevel.Verbose,
            "debug" => LogEventLevel.Debug,
            "information" or "info" => LogEventLevel.Information,
            "warning" or "warn" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            "fatal" or "critical" => LogEventLevel.Fatal,
            _ => throw new FormatException("expected verbose, debug, information, warning, error or fatal"),
        };

        /// <summary>Prints a size in the largest binary unit that divides it exactly, so it parses back to the same value.</summary>
        public static string ExactSize(long bytes)
        {
            (string Unit, long Factor)[] units = [("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10)];
            foreach (var (unit, factor) in units)
            {
                if (bytes >= factor && bytes % factor == 0) return (bytes / factor).ToString(CultureInfo.InvariantCulture) + unit;
            }
            return bytes.ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>Prints a duration in the largest unit that divides it exactly; null is "forever".</summary>
        public static string ExactDuration(TimeSpan? duration)
        {
            if (duration is not { } d) return "forever";
            var ms = (long)d.TotalMilliseconds;
            (string Unit, long Factor)[] units = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)];
            foreach (var (unit, factor) in units)
            {
                if (ms >= factor && ms % factor == 0) return (ms / factor).ToString(CultureInfo.InvariantCulture) + unit;
            }
            return ms.ToString(CultureInfo.InvariantCulture) + "ms";
        }
    }
}
