using EdgeStream.Hosting.Configuration;
using EdgeStream.Storage;
using Serilog.Events;

namespace EdgeStream.Agent.Tests;

public sealed class AgentConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Dictionary<string, IReadOnlyList<string>> Flags(params (string Name, string Value)[] values)
    {
        var d = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var (n, v) in values)
            d[n] = d.TryGetValue(n, out var existing) ? [.. existing, v] : [v];
        return d;
    }

    private static Dictionary<string, string> Env(params (string Name, string Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value);

    private string WriteConfig(string json)
    {
        var path = _dir.Combine($"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private AgentOptions Resolve(Dictionary<string, IReadOnlyList<string>>? flags = null, Dictionary<string, string>? env = null) =>
        AgentConfiguration.Resolve(flags ?? [], env ?? [], _dir.Path);

    [Fact]
    public void Resolve_NoSources_UsesDocumentedDefaults()
    {
        var o = Resolve();

        Assert.Equal(NodeRole.Edge, o.Role);
        Assert.Null(o.NodeId);
        Assert.Equal(Path.Combine(_dir.Path, "data"), o.DataDirectory);
        Assert.Equal(new HostPort("0.0.0.0", 9092), o.Kafka);
        Assert.Equal(new HostPort("0.0.0.0", 1883), o.Mqtt);
        Assert.Equal(new HostPort("127.0.0.1", 9094), o.Http);
        Assert.Null(o.Uplink);
        Assert.Empty(o.Parents);
        Assert.Equal(FsyncPolicy.Group, o.Fsync);
        Assert.Equal(TimeSpan.FromMilliseconds(2), o.FsyncInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), o.FlushInterval);
        Assert.Equal(0, o.MaxDiskBytes);
        Assert.Equal(TopicConfig.Default.SegmentBytes, o.SegmentBytes);
        Assert.Equal(TopicConfig.Default.RetentionBytes, o.RetentionBytes);
        Assert.Equal(TopicConfig.Default.RetentionAge, o.Retention);
        Assert.Equal(TimeSpan.FromSeconds(30), o.RetentionCheckInterval);
        Assert.Equal(LogEventLevel.Information, o.LogLevel);
    }

    [Fact]
    public void Resolve_GatewayWithoutUplink_UsesDefaultUplink()
    {
        var o = Resolve(Flags(("role", "gateway")));

        Assert.Equal(new HostPort("0.0.0.0", 9095), o.Uplink);
    }

    [Fact]
    public void Resolve_FlagEnvAndFile_FlagWins()
    {
        var config = WriteConfig("""{ "role": "cloud", "kafka": "127.0.0.1:7001" }""");

        var o = Resolve(Flags(("role", "gateway"), ("config", config)), Env(("EDGESTREAM_ROLE", "edge")));

        Assert.Equal(NodeRole.Gateway, o.Role);
        Assert.Equal(new HostPort("127.0.0.1", 7001), o.Kafka);
        Assert.Equal(config, o.ConfigFile);
    }

    [Fact]
    public void Resolve_EnvAndFile_EnvWins()
    {
        var config = WriteConfig("""{ "role": "cloud", "mqtt": "127.0.0.1:7002" }""");

        var o = Resolve(env: Env(("EDGESTREAM_CONFIG", config), ("EDGESTREAM_ROLE", "gateway")));

        Assert.Equal(NodeRole.Gateway, o.Role);
        Assert.Equal(new HostPort("127.0.0.1", 7002), o.Mqtt);
    }

    [Fact]
    public void Resolve_FileOnly_FileBeatsDefault()
    {
        var config = WriteConfig("""
            {
              // comments and trailing commas are accepted
              "role": "gateway",
              "nodeId": "gw-1",
              "data": "/var/lib/edgestream",
              "parents": ["cloud-a:9095", "cloud-b:9095"],
              "fsync": "always",
              "maxDisk": "10GiB",
              "segmentBytes": 1048576,
              "retention": "forever",
              "logLevel": "debug",
            }
            """);

        var o = Resolve(Flags(("config", config)));

        Assert.Equal(NodeRole.Gateway, o.Role);
        Assert.Equal("gw-1", o.NodeId);
        Assert.Equal("/var/lib/edgestream", o.DataDirectory);
        Assert.Equal([new HostPort("cloud-a", 9095), new HostPort("cloud-b", 9095)], o.Parents);
        Assert.Equal(FsyncPolicy.Always, o.Fsync);
        Assert.Equal(10L << 30, o.MaxDiskBytes);
        Assert.Equal(1L << 20, o.SegmentBytes);
        Assert.Null(o.Retention);
        Assert.Equal(LogEventLevel.Debug, o.LogLevel);
    }

    [Fact]
    public void Resolve_ParentsInEnvironment_SplitsOnCommas()
    {
        var o = Resolve(env: Env(("EDGESTREAM_PARENT", "gw-a:9095, gw-b:9095")));

        Assert.Equal([new HostPort("gw-a", 9095), new HostPort("gw-b", 9095)], o.Parents);
    }

    [Fact]
    public void Resolve_RepeatedParentFlag_KeepsOrderAndBeatsEnvironment()
    {
        var o = Resolve(Flags(("parents", "a:1"), ("parents", "b:2")), Env(("EDGESTREAM_PARENT", "c:3")));

        Assert.Equal([new HostPort("a", 1), new HostPort("b", 2)], o.Parents);
    }

    [Fact]
    public void Resolve_EmptyEnvironmentVariable_CountsAsUnset()
    {
        var o = Resolve(env: Env(("EDGESTREAM_ROLE", "")));

        Assert.Equal(NodeRole.Edge, o.Role);
    }

    [Fact]
    public void Resolve_UnknownJsonKey_ThrowsNamingTheKey()
    {
        var config = WriteConfig("""{ "role": "edge", "bananas": 3 }""");

        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("config", config))));

        Assert.Contains("\"bananas\"", ex.Message);
        Assert.Contains(config, ex.Message);
    }

    [Fact]
    public void Resolve_WrongCaseJsonKey_SuggestsTheKnownKey()
    {
        var config = WriteConfig("""{ "NodeId": "x" }""");

        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("config", config))));

        Assert.Contains("did you mean \"nodeId\"", ex.Message);
    }

    [Fact]
    public void Resolve_BadFlagValue_NamesSettingAndFlag()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("role", "banana"))));

        Assert.Contains("role", ex.Message);
        Assert.Contains("'banana'", ex.Message);
        Assert.Contains("command-line flag --role", ex.Message);
    }

    [Fact]
    public void Resolve_TlsClientAuth_DefaultRequested_RequiredNeedsTheFleetCa()
    {
        Assert.Equal(EdgeStream.Security.Tls.TlsClientAuth.Requested, Resolve().TlsClientAuth);
        Assert.Equal(EdgeStream.Security.Tls.TlsClientAuth.None, Resolve(Flags(("tlsClientAuth", "none"))).TlsClientAuth);
        Assert.Contains("expected none, requested or required", Assert.Throws<ConfigurationException>(() => Resolve(Flags(("tlsClientAuth", "sometimes")))).Message);
        // Nothing to verify a client certificate with: refused at start rather than refusing every client.
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("tlsClientAuth", "required"))));
        Assert.Contains("'required' needs --tls-cert, --tls-key and --tls-ca", ex.Message);
    }

    [Fact]
    public void Resolve_BadEnvironmentValue_NamesVariable()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(env: Env(("EDGESTREAM_KAFKA", "notaport"))));

        Assert.Contains("kafka", ex.Message);
        Assert.Contains("environment variable EDGESTREAM_KAFKA", ex.Message);
        Assert.Contains("HOST:PORT", ex.Message);
    }

    [Fact]
    public void Resolve_BadFileValue_NamesFileAndKey()
    {
        var config = WriteConfig("""{ "maxDisk": "lots" }""");

        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("config", config))));

        Assert.Contains($"config file {config}, key \"maxDisk\"", ex.Message);
        Assert.Contains("'lots'", ex.Message);
    }

    [Fact]
    public void Resolve_MissingConfigFile_NamesFileAndSource()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(env: Env(("EDGESTREAM_CONFIG", "nope.json"))));

        Assert.Contains("nope.json", ex.Message);
        Assert.Contains("EDGESTREAM_CONFIG", ex.Message);
    }

    [Fact]
    public void Resolve_InvalidJson_Throws()
    {
        var config = WriteConfig("{ role: ");

        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("config", config))));

        Assert.Contains("not valid JSON", ex.Message);
    }

    [Fact]
    public void Resolve_ArrayForSingleValuedKey_Throws()
    {
        var config = WriteConfig("""{ "role": ["edge"] }""");

        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("config", config))));

        Assert.Contains("\"role\"", ex.Message);
    }

    [Fact]
    public void Resolve_UplinkOnEdge_Throws()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("uplink", "0.0.0.0:9999"))));

        Assert.Contains("--uplink", ex.Message);
    }

    [Fact]
    public void Resolve_UplinkMaxFrame_DefaultFlagAndEnvironment()
    {
        Assert.Equal(16L * 1024 * 1024, Resolve(Flags(("role", "gateway"))).UplinkMaxFrameBytes);
        Assert.Equal(1024L * 1024, Resolve(Flags(("role", "gateway"), ("uplinkMaxFrame", "1MiB"))).UplinkMaxFrameBytes);
        Assert.Equal(64L * 1024, Resolve(Flags(("role", "cloud")), Env(("EDGESTREAM_UPLINK_MAX_FRAME", "64KiB"))).UplinkMaxFrameBytes);
    }

    [Theory]
    [InlineData("512")]
    [InlineData("2GiB")]
    public void Resolve_UplinkMaxFrameOutOfRange_Throws(string value)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("role", "gateway"), ("uplinkMaxFrame", value))));

        Assert.Contains("--uplink-max-frame", ex.Message);
    }

    [Fact]
    public void Resolve_CloudWithParent_Throws()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("role", "cloud"), ("parents", "x:1"))));

        Assert.Contains("--parent", ex.Message);
    }

    [Fact]
    public void Resolve_TwoListenersOnOnePort_ThrowsNamingBoth()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("http", "127.0.0.1:9092"))));

        Assert.Contains("--kafka", ex.Message);
        Assert.Contains("--http", ex.Message);
    }

    [Fact]
    public void Resolve_MqttMap_FlagsEnvironmentAndJson()
    {
        Assert.Empty(Resolve().MqttMap);

        var flags = Resolve(Flags(("mqttMap", "factory/+/telemetry/#=telemetry"), ("mqttMap", "cmd/#=commands")), Env(("EDGESTREAM_MQTT_MAP", "x/#=x")));
        Assert.Equal(["factory/+/telemetry/#=telemetry", "cmd/#=commands"], flags.MqttMap.Select(r => r.ToString()));

        var env = Resolve(env: Env(("EDGESTREAM_MQTT_MAP", "a/#=a, b/+=b")));
        Assert.Equal(["a/#=a", "b/+=b"], env.MqttMap.Select(r => r.ToString()));

        var config = WriteConfig("""{ "mqttMap": ["s/#=sensors"] }""");
        var json = Resolve(Flags(("config", config)));
        Assert.Equal("s/#", Assert.Single(json.MqttMap).Filter);
    }

    [Theory]
    [InlineData("a/#/b=t", "invalid MQTT topic filter")]
    [InlineData("a/#=bad topic", "invalid log topic name")]
    [InlineData("a/#", "FILTER=TOPIC")]
    public void Resolve_InvalidMqttMap_IsConfigurationError(string rule, string reason)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("mqttMap", rule))));

        Assert.Contains("--mqtt-map", ex.Message);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void Resolve_MqttLimits_DefaultsFlagsEnvironmentAndJson()
    {
        var defaults = Resolve().MqttLimits;
        Assert.Equal((1 << 20, 10_000, 100, 100_000), (defaults.MaxPacketBytes, defaults.MaxConnections, defaults.MaxInflight, defaults.MaxQueued));

        var flags = Resolve(Flags(("mqttMaxPacket", "64KiB"), ("mqttMaxConnections", "3"), ("mqttMaxInflight", "10"), ("mqttMaxQueued", "50"))).MqttLimits;
        Assert.Equal((64 << 10, 3, 10, 50), (flags.MaxPacketBytes, flags.MaxConnections, flags.MaxInflight, flags.MaxQueued));

        Assert.Equal(7, Resolve(env: Env(("EDGESTREAM_MQTT_MAX_INFLIGHT", "7"))).MqttLimits.MaxInflight);
        var config = WriteConfig("""{ "mqttMaxQueued": 1000, "mqttMaxPacket": "2MiB" }""");
        var json = Resolve(Flags(("config", config))).MqttLimits;
        Assert.Equal((2 << 20, 1000), (json.MaxPacketBytes, json.MaxQueued));
    }

    [Fact]
    public void Resolve_MqttMaxKeepAlive_DefaultZeroFlagEnvironmentAndJson()
    {
        Assert.Equal(0, Resolve().MqttLimits.MaxKeepAliveSeconds);
        Assert.Equal(30, Resolve(Flags(("mqttMaxKeepalive", "30"))).MqttLimits.MaxKeepAliveSeconds);
        Assert.Equal(45, Resolve(env: Env(("EDGESTREAM_MQTT_MAX_KEEPALIVE", "45"))).MqttLimits.MaxKeepAliveSeconds);
        var config = WriteConfig("""{ "mqttMaxKeepalive": 600 }""");
        Assert.Equal(600, Resolve(Flags(("config", config))).MqttLimits.MaxKeepAliveSeconds);
    }

    [Theory]
    [InlineData("mqttMaxPacket", "100", "--mqtt-max-packet")]
    [InlineData("mqttMaxPacket", "1GiB", "--mqtt-max-packet")]
    [InlineData("mqttMaxInflight", "0", "--mqtt-max-inflight")]
    [InlineData("mqttMaxInflight", "65536", "--mqtt-max-inflight")]
    [InlineData("mqttMaxConnections", "-1", "--mqtt-max-connections")]
    [InlineData("mqttMaxQueued", "many", "--mqtt-max-queued")]
    [InlineData("mqttMaxKeepalive", "65536", "--mqtt-max-keepalive")]
    [InlineData("mqttMaxKeepalive", "-1", "--mqtt-max-keepalive")]
    public void Resolve_InvalidMqttLimit_IsConfigurationError(string name, string value, string flag)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags((name, value))));

        Assert.Contains(flag, ex.Message);
    }

    [Fact]
    public void Resolve_ListenerOnHostName_Throws()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("mqtt", "example.com:1883"))));

        Assert.Contains("--mqtt", ex.Message);
    }

    [Theory]
    [InlineData("none", -1L)]
    [InlineData("-1", -1L)]
    [InlineData("64MB", 64L << 20)]
    [InlineData("1.5GiB", 3L << 29)]
    public void Resolve_RetentionBytes_ParsesSizesAndNone(string text, long expected)
    {
        Assert.Equal(expected, Resolve(Flags(("retentionBytes", text))).RetentionBytes);
    }

    [Fact]
    public void Resolve_Durations_Parsed()
    {
        var o = Resolve(Flags(("fsyncInterval", "5ms"), ("retention", "12h"), ("retentionCheckInterval", "1m"), ("flushInterval", "250ms")));

        Assert.Equal(TimeSpan.FromMilliseconds(5), o.FsyncInterval);
        Assert.Equal(TimeSpan.FromHours(12), o.Retention);
        Assert.Equal(TimeSpan.FromMinutes(1), o.RetentionCheckInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.FlushInterval);
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("soon")]
    public void Resolve_BadRetentionCheckInterval_Throws(string text)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Flags(("retentionCheckInterval", text))));

        Assert.Contains("--retention-check-interval", ex.Message);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("")]
    [InlineData("slash/id")]
    public void Resolve_BadNodeId_Throws(string id)
    {
        var flags = id.Length == 0 ? Flags(("nodeId", " ")) : Flags(("nodeId", id));

        var ex = Assert.Throws<ConfigurationException>(() => Resolve(flags));

        Assert.Contains("nodeId", ex.Message);
    }

    [Fact]
    public void AgentSettings_All_HaveUniqueFlagsVariablesAndKeys()
    {
        var all = AgentSettings.All;

        Assert.Equal(all.Count, all.Select(s => s.Name).Distinct().Count());
        Assert.Equal(all.Count, all.Select(s => s.Flag).Distinct().Count());
        Assert.Equal(all.Count, all.Select(s => s.EnvironmentVariable).Distinct().Count());
        var keys = all.Where(s => s.JsonKey is not null).Select(s => s.JsonKey).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.All(all, s => Assert.StartsWith("EDGESTREAM_", s.EnvironmentVariable));
        Assert.All(all, s => Assert.StartsWith("--", s.Flag));
    }

    [Theory]
    [InlineData("0.0.0.0:9092", "0.0.0.0", 9092)]
    [InlineData("localhost:1", "localhost", 1)]
    [InlineData("[::1]:65535", "::1", 65535)]
    [InlineData("gw.example:9095", "gw.example", 9095)]
    public void HostPortTryParse_ValidText_Parses(string text, string host, int port)
    {
        Assert.True(HostPort.TryParse(text, out var hp));
        Assert.Equal(new HostPort(host, port), hp);
    }

    [Theory]
    [InlineData("notaport")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData(":9092")]
    [InlineData("::1:9092")]
    [InlineData("host:-1")]
    [InlineData("a b:1")]
    public void HostPortTryParse_InvalidText_Fails(string text)
    {
        Assert.False(HostPort.TryParse(text, out _));
    }
}
