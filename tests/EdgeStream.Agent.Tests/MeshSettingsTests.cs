using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Tests;

/// <summary>--mdns, --cluster, --gossip and --seeds: defaults, sources, and errors naming the setting.</summary>
public sealed class MeshSettingsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private AgentOptions Resolve(Dictionary<string, IReadOnlyList<string>>? flags = null, Dictionary<string, string>? env = null) =>
        AgentConfiguration.Resolve(flags ?? [], env ?? [], _dir.Path);

    [Fact]
    public void Resolve_NoSources_MeshDefaults()
    {
        var o = Resolve();

        Assert.True(o.Mdns);
        Assert.Equal("edgestream", o.Cluster);
        Assert.Equal(new HostPort("0.0.0.0", 7946), o.Gossip);
        Assert.Empty(o.Seeds);
    }

    [Fact]
    public void Resolve_MeshFlagsAndEnvironment_Parsed()
    {
        var o = Resolve(
            new() { ["mdns"] = ["off"], ["gossip"] = ["127.0.0.1:17946"], ["seeds"] = ["gw-a:7946", "10.0.0.2:7000"] },
            new() { ["EDGESTREAM_CLUSTER"] = "plant-7" });

        Assert.False(o.Mdns);
        Assert.Equal("plant-7", o.Cluster);
        Assert.Equal(new HostPort("127.0.0.1", 17946), o.Gossip);
        Assert.Equal([new HostPort("gw-a", 7946), new HostPort("10.0.0.2", 7000)], o.Seeds);
    }

    [Fact]
    public void Resolve_SeedsInEnvironment_SplitsOnCommas()
    {
        var o = Resolve(env: new() { ["EDGESTREAM_SEEDS"] = "a:1, b:2" });

        Assert.Equal([new HostPort("a", 1), new HostPort("b", 2)], o.Seeds);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("slash/no")]
    [InlineData("x12345678901234567890123456789012345678901234567890123456789012345")]
    public void Resolve_BadCluster_NamesTheSetting(string value)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["cluster"] = [value] }));

        Assert.Contains("--cluster", ex.Message);
    }

    [Theory]
    [InlineData("gw-a")]
    [InlineData("gw-a:0")]
    [InlineData("gw-a:70000")]
    public void Resolve_BadSeeds_NamesTheSetting(string value)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["seeds"] = [value] }));

        Assert.Contains("--seeds", ex.Message);
        Assert.Contains(value, ex.Message);
    }

    [Fact]
    public void Resolve_BadSeedsInEnvironment_NamesTheVariable()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(env: new() { ["EDGESTREAM_SEEDS"] = "ok:1,bad" }));

        Assert.Contains("EDGESTREAM_SEEDS", ex.Message);
    }

    [Fact]
    public void Resolve_GossipOnHostName_Throws()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["gossip"] = ["gw.example:7946"] }));

        Assert.Contains("--gossip", ex.Message);
    }

    [Fact]
    public void Resolve_GossipOnTheHttpPort_Throws()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["gossip"] = ["127.0.0.1:9094"] }));

        Assert.Contains("--gossip", ex.Message);
        Assert.Contains("--http", ex.Message);
    }

    [Fact]
    public void Resolve_BadMdns_Throws()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["mdns"] = ["maybe"] }));

        Assert.Contains("--mdns", ex.Message);
    }
}
