using System.Security.Cryptography;
using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Tests;

/// <summary>--gossip-key: flag, environment and config file, the first key first, and errors that never show a key.</summary>
public sealed class GossipKeySettingsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private AgentOptions Resolve(Dictionary<string, IReadOnlyList<string>>? flags = null, Dictionary<string, string>? env = null) =>
        AgentConfiguration.Resolve(flags ?? [], env ?? [], _dir.Path);

    private static byte[] NewKey(int bytes = 32) => RandomNumberGenerator.GetBytes(bytes);

    [Fact]
    public void Resolve_NoKey_GossipInClearText()
    {
        Assert.Empty(Resolve().GossipKeys);
    }

    [Fact]
    public void Resolve_RepeatedFlag_KeysInOrderThePrimaryFirst()
    {
        byte[] primary = NewKey(16), secondary = NewKey(24);

        var o = Resolve(new() { ["gossipKeys"] = [Convert.ToBase64String(primary), Convert.ToBase64String(secondary)] });

        Assert.Equal([primary, secondary], o.GossipKeys);
    }

    [Fact]
    public void Resolve_EnvironmentCommaSeparated_TwoKeys()
    {
        byte[] primary = NewKey(), secondary = NewKey();

        var o = Resolve(env: new() { ["EDGESTREAM_GOSSIP_KEY"] = $"{Convert.ToBase64String(primary)}, {Convert.ToBase64String(secondary)}" });

        Assert.Equal([primary, secondary], o.GossipKeys);
    }

    [Fact]
    public void Resolve_ConfigFileArray_Keys()
    {
        var key = NewKey();
        var path = Path.Combine(_dir.Path, "edgestream.json");
        File.WriteAllText(path, $$"""{ "gossipKeys": ["{{Convert.ToBase64String(key)}}"] }""");

        var o = Resolve(new() { ["config"] = [path] });

        Assert.Equal([key], o.GossipKeys);
    }

    [Theory]
    [InlineData(15)]
    [InlineData(20)]
    [InlineData(33)]
    public void Resolve_KeyOfWrongLength_NamesTheSettingButNotTheKey(int bytes)
    {
        var bad = Convert.ToBase64String(NewKey(bytes));

        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["gossipKeys"] = [bad] }));

        Assert.Contains("--gossip-key", ex.Message);
        Assert.DoesNotContain(bad, ex.Message);
    }

    [Fact]
    public void Resolve_NotBase64InEnvironment_HidesEveryKeyOfTheList()
    {
        var good = Convert.ToBase64String(NewKey());

        var ex = Assert.Throws<ConfigurationException>(() => Resolve(env: new() { ["EDGESTREAM_GOSSIP_KEY"] = $"{good},not base64!" }));

        Assert.Contains("EDGESTREAM_GOSSIP_KEY", ex.Message);
        Assert.DoesNotContain(good, ex.Message);
        Assert.DoesNotContain("not base64", ex.Message);
    }
}
