using System.Text;
using System.Text.Json;
using EdgeStream.Records;
using EdgeStream.Storage;

namespace EdgeStream.Agent.Tests;

/// <summary>The agent over a real log: status reports what storage holds, fsck finds and repairs damage.</summary>
public sealed class StorageWiringTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static async Task WriteTopicAsync(string dataDirectory, string topic, int batches)
    {
        await using var log = new LogManager(new StorageOptions { LogDirectory = Path.Combine(dataDirectory, "log") });
        log.Open();
        var partition = log.CreateTopic(topic, 2)[0];
        for (var i = 0; i < batches; i++)
        {
            var builder = new RecordBatchBuilder();
            builder.Add(Encoding.UTF8.GetBytes($"k{i}"), Encoding.UTF8.GetBytes($"value-{i}"), 1_700_000_000_000 + i);
            await partition.AppendAsync(builder.Build());
        }
    }

    [Fact]
    public async Task Run_DataWithTopic_StatusReportsTopicsAndUsedBytes()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        await WriteTopicAsync(data, "sensors", 5);
        var port = AgentProcess.FreePort();

        using var agent = AgentProcess.Start(dir.Path, AgentProcess.RunArgs(port));
        await agent.WaitForHealthyAsync(port, StartTimeout);
        using var http = new HttpClient();
        using var doc = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/v1/status"));

        Assert.Equal(1, doc.RootElement.GetProperty("topics").GetInt32());
        Assert.True(doc.RootElement.GetProperty("usedBytes").GetInt64() > 0);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Fsck_TornTail_ExitsOneThenRepairExitsZero()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        await WriteTopicAsync(data, "t", 3);
        var segment = Directory.GetFiles(Path.Combine(data, "log", "t", "0"), "*.log").Single();
        using (var f = new FileStream(segment, FileMode.Open)) f.SetLength(f.Length - 10);

        var check = await AgentProcess.RunToExitAsync(dir.Path, ["fsck", "--data", data]);
        var repair = await AgentProcess.RunToExitAsync(dir.Path, ["fsck", "--data", data, "--repair"]);
        var recheck = await AgentProcess.RunToExitAsync(dir.Path, ["fsck", "--data", data]);

        Assert.True(check.ExitCode == 1, check.Stdout + check.Stderr);
        Assert.True(repair.ExitCode == 0, repair.Stdout + repair.Stderr);
        Assert.True(recheck.ExitCode == 0, recheck.Stdout + recheck.Stderr);
    }

    [Fact]
    public async Task Fsck_WhileNodeRuns_ExitsOneAskingToStopIt()
    {
        using var dir = new TempDirectory();
        var port = AgentProcess.FreePort();
        using var agent = AgentProcess.Start(dir.Path, AgentProcess.RunArgs(port));
        await agent.WaitForHealthyAsync(port, StartTimeout);

        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, ["fsck"]);

        Assert.Equal(1, code);
        Assert.Contains("stop the node", stderr);
        Assert.Equal(0, await agent.StopAsync(TimeSpan.FromSeconds(30)));
    }
}
