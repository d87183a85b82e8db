using System.Net.Sockets;
using System.Text.Json;

namespace EdgeStream.Agent.Tests;

/// <summary>The zero-configuration start uses the fixed default ports, so it never runs beside itself.</summary>
[CollectionDefinition("DefaultPorts", DisableParallelization = true)]
public sealed class DefaultPortsCollection;

[Collection("DefaultPorts")]
public sealed class ZeroConfigurationTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Run_NoFlagsInEmptyDirectory_StartsAndKeepsNodeIdAcrossRestart()
    {
        using var dir = new TempDirectory();

        string firstId;
        using (var agent = AgentProcess.Start(dir.Path, ["run"]))
        {
            await agent.WaitForHealthyAsync(9094, StartTimeout);
            Assert.True(File.Exists(dir.Combine("data", "meta.db")), "meta.db was not created under ./data");
            Assert.True(Directory.Exists(dir.Combine("data", "logs")), "./data/logs was not created");
            firstId = await StatusNodeIdAsync(9094);
            Assert.Matches("^edge-[0-9a-f]{8}$", firstId);
            Assert.Equal(0, await agent.StopAsync(StopTimeout));
            Assert.Contains("stopped cleanly", agent.Stdout);
        }

        using (var agent = AgentProcess.Start(dir.Path, ["run"]))
        {
            await agent.WaitForHealthyAsync(9094, StartTimeout);
            Assert.Equal(firstId, await StatusNodeIdAsync(9094));
            Assert.Equal(0, await agent.StopAsync(StopTimeout));
        }
    }

    private static async Task<string> StatusNodeIdAsync(int port)
    {
        using var http = new HttpClient();
        using var doc = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/v1/status"));
        return doc.RootElement.GetProperty("nodeId").GetString()!;
    }
}

public sealed class AgentProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private static string[] RunArgs(int httpPort, params string[] extra) => AgentProcess.RunArgs(httpPort, extra);

    [Fact]
    public async Task Run_GatewayWithNodeId_ServesStatusJson()
    {
        using var dir = new TempDirectory();
        var port = AgentProcess.FreePort();
        using var agent = AgentProcess.Start(dir.Path, RunArgs(port, "--role", "gateway", "--node-id", "gw-test", "--data", dir.Combine("d"), "--uplink", $"127.0.0.1:{AgentProcess.FreePort()}"));
        await agent.WaitForHealthyAsync(port, StartTimeout);

        using var http = new HttpClient();
        using var response = await http.GetAsync($"http://127.0.0.1:{port}/v1/status");
        var body = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);

        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("gw-test", doc.RootElement.GetProperty("nodeId").GetString());
        Assert.Equal("gateway", doc.RootElement.GetProperty("role").GetString());
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("version").GetString()));
        Assert.Equal(0, doc.RootElement.GetProperty("topics").GetInt32());
        Assert.True(doc.RootElement.TryGetProperty("usedBytes", out _));
        Assert.Equal(0, await agent.StopAsync(StopTimeout));
        Assert.Contains("uplink=127.0.0.1:", agent.Stdout);
    }

    [Theory]
    [InlineData(AgentProcess.Sigterm)]
    [InlineData(AgentProcess.Sigint)]
    public async Task Run_StopSignal_ClosesTheLogAndExitsZero(int signal)
    {
        using var dir = new TempDirectory();
        var port = AgentProcess.FreePort();
        using var agent = AgentProcess.Start(dir.Path, RunArgs(port));
        await agent.WaitForHealthyAsync(port, StartTimeout);

        Assert.Equal(0, await agent.StopAsync(StopTimeout, signal));
        Assert.Contains("Log closed cleanly", agent.Stdout);
        Assert.Equal("", agent.Stderr);
    }

    [Fact]
    public async Task Run_SettingsFromEnvironmentAndConfigFile_AreUsed()
    {
        using var dir = new TempDirectory();
        var port = AgentProcess.FreePort();
        var config = dir.Combine("edgestream.json");
        await File.WriteAllTextAsync(config, $$"""{ "nodeId": "from-file", "http": "127.0.0.1:{{port}}", "data": "{{dir.Combine("filedata")}}" }""");
        using var agent = AgentProcess.Start(dir.Path, ["run", "--fsync", "os", "--kafka", $"127.0.0.1:{AgentProcess.FreePort()}"],
            new Dictionary<string, string> { ["EDGESTREAM_CONFIG"] = config, ["EDGESTREAM_NODE_ID"] = "from-env" });
        await agent.WaitForHealthyAsync(port, StartTimeout);

        Assert.Equal(0, await agent.StopAsync(StopTimeout));
        Assert.Contains("node from-env", agent.Stdout);
        Assert.Contains("fsync=os", agent.Stdout);
        Assert.True(File.Exists(dir.Combine("filedata", "meta.db")));
    }

    [Theory]
    [InlineData("--role", "banana", "role")]
    [InlineData("--kafka", "notaport", "kafka")]
    [InlineData("--fsync", "sometimes", "fsync")]
    [InlineData("--max-disk", "lots", "maxDisk")]
    public async Task Run_BadFlagValue_ExitsTwoNamingTheSetting(string flag, string value, string setting)
    {
        using var dir = new TempDirectory();

        // Rejected before anything binds, so no isolated ports are needed.
        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, ["run", "--http", $"127.0.0.1:{AgentProcess.FreePort()}", flag, value]);

        Assert.Equal(2, code);
        Assert.Contains(setting, stderr);
        Assert.Contains($"'{value}'", stderr);
        Assert.Contains(flag, stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(Directory.Exists(dir.Combine("data")), "a rejected configuration must not create the data directory");
    }

    [Fact]
    public async Task Run_UnknownFlag_ExitsTwoNamingIt()
    {
        using var dir = new TempDirectory();

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, ["run", "--bogus"]);

        Assert.Equal(2, code);
        Assert.Contains("--bogus", stderr);
    }

    [Fact]
    public async Task Run_BadEnvironmentValue_ExitsTwoNamingTheVariable()
    {
        using var dir = new TempDirectory();

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, RunArgs(AgentProcess.FreePort()),
            new Dictionary<string, string> { ["EDGESTREAM_ROLE"] = "banana" });

        Assert.Equal(2, code);
        Assert.Contains("EDGESTREAM_ROLE", stderr);
    }

    [Fact]
    public async Task Run_UnknownConfigKey_ExitsTwoNamingTheKey()
    {
        using var dir = new TempDirectory();
        var config = dir.Combine("c.json");
        await File.WriteAllTextAsync(config, """{ "rol": "edge" }""");

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, RunArgs(AgentProcess.FreePort(), "--config", config));

        Assert.Equal(2, code);
        Assert.Contains("\"rol\"", stderr);
    }

    [Fact]
    public async Task Run_HttpPortInUse_ExitsOneWithOneLine()
    {
        using var dir = new TempDirectory();
        using var blocker = new TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, RunArgs(port));

        Assert.Equal(1, code);
        Assert.Contains("address already in use", stderr);
        Assert.Contains("--http", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Run_DataDirectoryNotWritable_ExitsOneNamingIt()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("a-file");
        await File.WriteAllTextAsync(file, "x");

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, RunArgs(AgentProcess.FreePort(), "--data", Path.Combine(file, "data")));

        Assert.Equal(1, code);
        Assert.Contains("data directory", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Run_SecondNodeOnSameDataDirectory_ExitsOne()
    {
        using var dir = new TempDirectory();
        var port = AgentProcess.FreePort();
        using var first = AgentProcess.Start(dir.Path, RunArgs(port));
        await first.WaitForHealthyAsync(port, StartTimeout);

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, RunArgs(AgentProcess.FreePort()));

        Assert.Equal(1, code);
        Assert.Contains("in use by another edgestream process", stderr);
        Assert.Equal(0, await first.StopAsync(StopTimeout));
    }

    [Theory]
    [InlineData(new string[] { "--help" }, "run")]
    [InlineData(new string[] { "run", "--help" }, "--node-id")]
    [InlineData(new string[] { "fsck", "--help" }, "--repair")]
    [InlineData(new string[] { "version", "--help" }, "version")]
    public async Task Help_EveryVerb_ExitsZeroAndListsOptions(string[] args, string expected)
    {
        using var dir = new TempDirectory();

        var (code, stdout, _) = await AgentProcess.RunToExitAsync(dir.Path, args);

        Assert.Equal(0, code);
        Assert.Contains(expected, stdout);
    }

    [Fact]
    public async Task RunHelp_ListsEverySettingWithItsVariable()
    {
        using var dir = new TempDirectory();

        var (code, stdout, _) = await AgentProcess.RunToExitAsync(dir.Path, ["run", "--help"]);

        Assert.Equal(0, code);
        foreach (var setting in EdgeStream.Hosting.Configuration.AgentSettings.All)
        {
            Assert.Contains(setting.Flag, stdout);
            Assert.Contains(setting.EnvironmentVariable, stdout);
        }
    }

    [Fact]
    public async Task Fsck_EmptyDataDirectory_ExitsZero()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("data", "log"));

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, ["fsck", "--data", dir.Combine("data")]);

        Assert.True(code == 0, stderr);
    }

    [Fact]
    public async Task Fsck_MissingDataDirectory_ExitsZero()
    {
        using var dir = new TempDirectory();

        var (code, stdout, _) = await AgentProcess.RunToExitAsync(dir.Path, ["fsck"]);

        Assert.Equal(0, code);
        Assert.Contains("nothing to check", stdout);
    }

    [Fact]
    public async Task Fsck_BadFlag_ExitsTwo()
    {
        using var dir = new TempDirectory();

        var (code, _, _) = await AgentProcess.RunToExitAsync(dir.Path, ["fsck", "--repiar"]);

        Assert.Equal(2, code);
    }

    [Fact]
    public async Task Version_PrintsVersion()
    {
        using var dir = new TempDirectory();

        var (code, stdout, _) = await AgentProcess.RunToExitAsync(dir.Path, ["version"]);

        Assert.Equal(0, code);
        Assert.Matches(@"^edgestream \d+\.\d+\.\d+ \(commit [0-9a-f]{12}; ", stdout);
        // The version has one source: the VERSION file at the repository root.
        Assert.StartsWith($"edgestream {RepositoryFiles.ReadAllText("VERSION").Trim()} ", stdout);
    }

    [Fact]
    public async Task NoVerb_ExitsTwo()
    {
        using var dir = new TempDirectory();

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, []);

        Assert.Equal(2, code);
        Assert.Contains("run", stderr);
    }
}

public sealed class DamagedDataTests
{
    [Fact]
    public async Task Run_GarbageMetaDb_ExitsOneWithOneLine()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("data"));
        await File.WriteAllBytesAsync(dir.Combine("data", "meta.db"), Enumerable.Repeat((byte)0xAB, 16384).ToArray());

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, AgentProcess.RunArgs(AgentProcess.FreePort()));

        Assert.Equal(1, code);
        Assert.Contains("meta.db", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}

public sealed class ListenerConflictTests
{
    [Fact]
    public async Task Run_KafkaPortInUse_ExitsOneNamingKafka()
    {
        using var dir = new TempDirectory();
        using var blocker = new TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        var kafkaPort = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path,
            ["run", "--http", $"127.0.0.1:{AgentProcess.FreePort()}", "--kafka", $"127.0.0.1:{kafkaPort}"]);

        Assert.Equal(1, code);
        Assert.Contains("--kafka", stderr);
        Assert.Contains("address already in use", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
