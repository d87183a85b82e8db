using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Tests;

/// <summary><c>--profile</c> and <c>--memory-limit</c>: which GC settings they ask for, and that the running node has them.</summary>
public sealed class MemoryProfileTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const long MiB = 1L << 20;

    [Theory]
    [InlineData(MemoryProfile.Auto, 0L, 512 * MiB, MemoryProfile.Small)]
    [InlineData(MemoryProfile.Auto, 0L, 8192 * MiB, MemoryProfile.Default)]
    [InlineData(MemoryProfile.Auto, 64 * MiB, 8192 * MiB, MemoryProfile.Small)]
    [InlineData(MemoryProfile.Auto, 0L, 0L, MemoryProfile.Default)]
    [InlineData(MemoryProfile.Default, 0L, 512 * MiB, MemoryProfile.Default)]
    [InlineData(MemoryProfile.Small, 0L, 8192 * MiB, MemoryProfile.Small)]
    public void Resolve(MemoryProfile asked, long memoryLimit, long available, MemoryProfile expected) =>
        Assert.Equal(expected, MemoryProfiles.Resolve(asked, memoryLimit, available));

    [Fact]
    public void GcEnvironment_SmallWithLimit_WorkstationNonConcurrentConservingWithHardLimit()
    {
        var env = MemoryProfiles.GcEnvironment(MemoryProfile.Small, 64 * MiB);

        Assert.Equal("0", env["DOTNET_gcServer"]);
        Assert.Equal("0", env["DOTNET_gcConcurrent"]);
        Assert.Equal("7", env["DOTNET_GCConserveMemory"]);
        Assert.Equal((48 * MiB).ToString("x", System.Globalization.CultureInfo.InvariantCulture), env["DOTNET_GCHeapHardLimit"]);
    }

    [Fact]
    public void GcEnvironment_DefaultWithoutLimit_ChangesNothing() =>
        Assert.Empty(MemoryProfiles.GcEnvironment(MemoryProfile.Default, 0));

    [Fact]
    public async Task Run_ProfileSmallWithLimit_RunsWithThoseGcSettings()
    {
        using var dir = new TempDirectory();
        var http = AgentProcess.FreePort();
        using var agent = AgentProcess.Start(dir.Path, AgentProcess.RunArgs(http, "--data", dir.Combine("data"), "--profile", "small", "--memory-limit", "64MiB"));
        await agent.WaitForHealthyAsync(http, Timeout);
        Assert.Equal(0, await agent.StopAsync(Timeout));

        // Read back from the runtime after the restart with the profile's settings, not from the options.
        Assert.Contains("Memory profile small: workstation non-concurrent GC, conserve memory 7, heap hard limit 48 MiB, gen0 budget up to 4 MiB", agent.Stdout);
        Assert.Single(agent.Stdout.Split('\n'), l => l.Contains("starting as edge", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_ProfileSmall_UplinkSenderKeepsSmallBuffers()
    {
        // The default read-ahead alone (64 MiB) is more than the 48 MiB heap a 64 MiB limit allows.
        using var dir = new TempDirectory();
        var http = AgentProcess.FreePort();
        var parent = AgentProcess.FreePort(); // nobody listens: the sender starts and keeps retrying
        using var small = AgentProcess.Start(dir.Path, AgentProcess.RunArgs(http, "--data", dir.Combine("small"), "--profile", "small",
            "--memory-limit", "64MiB", "--parent", $"127.0.0.1:{parent}"));
        await small.WaitForHealthyAsync(http, Timeout);
        Assert.True(await Wait.UntilAsync(() => small.Stdout.Contains("Uplink: forwarding to", StringComparison.Ordinal), Timeout), small.Stdout);
        Assert.Equal(0, await small.StopAsync(Timeout));
        Assert.Contains("(window 8 frames of up to 1 MiB, read-ahead 4 MiB, rate unlimited)", small.Stdout);

        using var regular = AgentProcess.Start(dir.Path, AgentProcess.RunArgs(http, "--data", dir.Combine("default"), "--profile", "default",
            "--parent", $"127.0.0.1:{parent}"));
        await regular.WaitForHealthyAsync(http, Timeout);
        Assert.True(await Wait.UntilAsync(() => regular.Stdout.Contains("Uplink: forwarding to", StringComparison.Ordinal), Timeout), regular.Stdout);
        Assert.Equal(0, await regular.StopAsync(Timeout));
        Assert.Contains("(window 32 frames of up to 4 MiB, read-ahead 64 MiB, rate unlimited)", regular.Stdout);
    }

    [Fact]
    public async Task Run_OperatorGcVariable_WinsOverTheProfile()
    {
        using var dir = new TempDirectory();
        var http = AgentProcess.FreePort();
        using var agent = AgentProcess.Start(dir.Path, AgentProcess.RunArgs(http, "--data", dir.Combine("data"), "--profile", "small"),
            new Dictionary<string, string> { ["DOTNET_GCConserveMemory"] = "3" });
        await agent.WaitForHealthyAsync(http, Timeout);
        Assert.Equal(0, await agent.StopAsync(Timeout));

        Assert.Contains("Memory profile small: workstation non-concurrent GC, conserve memory 3, heap hard limit none", agent.Stdout);
    }
}
