using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using EdgeStream.Storage;

namespace EdgeStream.Agent.Tests;

/// <summary>--disk-full-policy: the agent-wide default disk.full.policy of new topics.</summary>
public sealed class DiskFullPolicySettingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private AgentOptions Resolve(Dictionary<string, IReadOnlyList<string>>? flags = null, Dictionary<string, string>? env = null) =>
        AgentConfiguration.Resolve(flags ?? [], env ?? [], _dir.Path);

    [Fact]
    public void Resolve_NoSetting_DefaultsToBlock()
    {
        var options = Resolve();

        Assert.Equal(DiskFullPolicy.Block, options.DiskFullPolicy);
        Assert.Equal(DiskFullPolicy.Block, StorageHostedService.CreateStorageOptions(options).DefaultTopicConfig.DiskFullPolicy);
    }

    [Fact]
    public void Resolve_FlagEnvOrConfigFile_SetsNewTopicDefault()
    {
        var fromFlag = Resolve(new() { ["diskFullPolicy"] = ["drop-oldest"] });
        var fromEnv = Resolve(env: new() { ["EDGESTREAM_DISK_FULL_POLICY"] = "DROP-OLDEST" });
        var file = _dir.Combine("config.json");
        File.WriteAllText(file, """{ "diskFullPolicy": "drop-oldest" }""");
        var fromFile = Resolve(new() { ["config"] = [file] });

        Assert.Equal(DiskFullPolicy.DropOldest, fromFlag.DiskFullPolicy);
        Assert.Equal(DiskFullPolicy.DropOldest, fromEnv.DiskFullPolicy);
        Assert.Equal(DiskFullPolicy.DropOldest, fromFile.DiskFullPolicy);
        Assert.Equal(DiskFullPolicy.DropOldest, StorageHostedService.CreateStorageOptions(fromFlag).DefaultTopicConfig.DiskFullPolicy);
    }

    [Fact]
    public void Resolve_UnknownPolicy_ThrowsNamingTheFlagAndTheChoices()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["diskFullPolicy"] = ["drop-newest"] }));

        Assert.Contains("--disk-full-policy", ex.Message);
        Assert.Contains("block or drop-oldest", ex.Message);
    }
}
