using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeStream.Kafka.Client;
using EdgeStream.TestSupport;

namespace EdgeStream.Cli.Tests;

/// <summary>The real <c>edgestream groups</c> and <c>consume --group</c> against a real agent, and kcat as another group client.</summary>
[Collection(AgentCollection.Name)]
public sealed class GroupsCliTests(AgentFixture agents) : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(45);
    private readonly TempDirectory _temp = new();
    private string Bootstrap => agents.Single.Bootstrap;

    public void Dispose() => _temp.Dispose();

    private static Task<CliResult> Run(params string[] args) => CliProcess.EdgestreamAsync(args);

    private static void AssertOk(CliResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    private async Task<string> NewTopicAsync(string prefix, int partitions)
    {
        var topic = Unique.Name(prefix);
        AssertOk(await Run("topics", "create", topic, "--partitions", partitions.ToString(), "-b", Bootstrap));
        return topic;
    }

    private async Task ProduceAsync(string topic, IEnumerable<string> lines) =>
        AssertOk(await CliProcess.EdgestreamAsync(["produce", topic, "-b", Bootstrap], Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")))));

    private AgentProcess StartConsumer(params string[] args) => AgentProcess.Start(_temp.Path, ["consume", .. args, "-b", Bootstrap]);

    /// <summary>Polls DescribeGroups until <paramref name="done"/> holds; fails with the last description at the deadline.</summary>
    private async Task<GroupDescription> WaitForGroupAsync(string group, Func<GroupDescription, bool> done)
    {
        await using var client = await KafkaClient.ConnectAsync(Bootstrap);
        var (there, last) = await Wait.UntilAsync(() => client.DescribeGroupAsync(group), done, s_deadline, TimeSpan.FromMilliseconds(200));
        Assert.True(there, $"group '{group}' did not get there within {s_deadline}: state {last.State}, {last.Members.Count} member(s): "
            + string.Join("; ", last.Members.Select(m => $"{m.ClientId} {string.Join(' ', m.Assignment.Select(a => $"{a.Topic}:{string.Join(',', a.Partitions)}"))}")));
        return last;
    }

    private static async Task StopAsync(AgentProcess consumer)
    {
        consumer.SendSignal(AgentProcess.Sigint);
        Assert.True(await consumer.WaitForExitAsync(TimeSpan.FromSeconds(20)), $"consumer did not exit on SIGINT\n{consumer.Stderr}");
        Assert.True(consumer.ExitCode == 0, $"exit {consumer.ExitCode}\nstdout:\n{consumer.Stdout}\nstderr:\n{consumer.Stderr}");
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static JsonElement[] PartitionRows(CliResult describe, string topic) =>
        [.. JsonDocument.Parse(describe.Stdout).RootElement.GetProperty("partitions").EnumerateArray().Where(p => p.GetProperty("topic").GetString() == topic)];

    [Fact]
    public async Task ConsumeGroup_TwoMembersOnTwoPartitions_SplitPartitionsAndPrintEveryRecordOnce()
    {
        var topic = await NewTopicAsync("split", 2);
        var group = Unique.Name("g-split");
        using var a = StartConsumer(topic, "--group", group, "--from-beginning");
        using var b = StartConsumer(topic, "--group", group, "--from-beginning");
        var stable = await WaitForGroupAsync(group, g => g.State == "Stable" && g.Members.Count == 2
            && g.Members.All(m => m.Assignment.Sum(x => x.Partitions.Count) == 1));
        Assert.Equal([0, 1], stable.Members.SelectMany(m => m.Assignment.SelectMany(x => x.Partitions)).Order());

        var expected = Enumerable.Range(0, 200).Select(i => $"r{i:D3}").ToArray();
        await ProduceAsync(topic, expected);
        await Wait.UntilAsync(() => Lines(a.Stdout).Length + Lines(b.Stdout).Length >= expected.Length, s_deadline);
        await StopAsync(a);
        await StopAsync(b);

        var fromA = Lines(a.Stdout);
        var fromB = Lines(b.Stdout);
        Assert.NotEmpty(fromA);
        Assert.NotEmpty(fromB);
        Assert.Equal(expected, fromA.Concat(fromB).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GroupsDescribe_AfterConsumingAndProducingMore_ShowsCommittedOffsetsAndLag()
    {
        var topic = await NewTopicAsync("lag", 2);
        var group = Unique.Name("g-lag");
        await ProduceAsync(topic, Enumerable.Range(0, 10).Select(i => $"a{i}"));
        var consumed = await Run("consume", topic, "--group", group, "--from-beginning", "-n", "10", "-b", Bootstrap);
        AssertOk(consumed);
        Assert.Equal(10, consumed.Lines.Length);

        var list = await Run("groups", "list", "-b", Bootstrap);
        AssertOk(list);
        Assert.Contains(group, list.Lines);

        var json = await Run("groups", "describe", group, "--format", "json", "-b", Bootstrap);
        AssertOk(json);
        var rows = PartitionRows(json, topic);
        Assert.Equal(2, rows.Length);
        Assert.All(rows, r => Assert.Equal(0, r.GetProperty("lag").GetInt64()));
        Assert.All(rows, r => Assert.Equal(r.GetProperty("logEndOffset").GetInt64(), r.GetProperty("committedOffset").GetInt64()));
        Assert.Equal(10, rows.Sum(r => r.GetProperty("committedOffset").GetInt64()));

        await ProduceAsync(topic, Enumerable.Range(0, 7).Select(i => $"b{i}"));
        json = await Run("groups", "describe", group, "--format", "json", "-b", Bootstrap);
        AssertOk(json);
        rows = PartitionRows(json, topic);
        Assert.Equal(7, rows.Sum(r => r.GetProperty("lag").GetInt64()));
        Assert.Equal(10, rows.Sum(r => r.GetProperty("committedOffset").GetInt64()));

        var table = await Run("groups", "describe", group, "-b", Bootstrap);
        AssertOk(table);
        Assert.Contains("state     Empty", table.Stdout);
        Assert.Matches(@"(?m)^TOPIC\s+PARTITION\s+COMMITTED\s+LOG-END\s+LAG\s+MEMBER$", table.Stdout);
        Assert.Matches($@"(?m)^{topic}\s+0\s+\d+\s+\d+\s+\d+\s+-$", table.Stdout);
        Assert.Matches($@"(?m)^{topic}\s+1\s+\d+\s+\d+\s+\d+\s+-$", table.Stdout);
    }

    [Fact]
    public async Task ResetOffsets_ToEarliestOnEmptyGroup_ConsumeGroupReadsEverythingAgain()
    {
        var topic = await NewTopicAsync("reset", 2);
        var group = Unique.Name("g-reset");
        var expected = Enumerable.Range(0, 8).Select(i => $"v{i}").ToArray();
        await ProduceAsync(topic, expected);
        AssertOk(await Run("consume", topic, "--group", group, "--from-beginning", "-n", "8", "-b", Bootstrap));

        // Nothing left for the group: it exits on the idle timeout with nothing printed.
        var nothing = await Run("consume", topic, "--group", group, "--timeout", "2s", "-b", Bootstrap);
        AssertOk(nothing);
        Assert.Equal("", nothing.Stdout);

        var reset = await Run("groups", "reset-offsets", group, "--topic", topic, "--to-earliest", "-b", Bootstrap);
        AssertOk(reset);
        Assert.Matches($@"(?m)^{topic}\s+0\s+0$", reset.Stdout);
        Assert.Matches($@"(?m)^{topic}\s+1\s+0$", reset.Stdout);

        // No --from-beginning: the reset offsets are what it starts from.
        var again = await Run("consume", topic, "--group", group, "-n", "8", "--timeout", "20s", "-b", Bootstrap);
        AssertOk(again);
        Assert.Equal(expected, again.Lines.Order(StringComparer.Ordinal));

        var toOffset = await Run("groups", "reset-offsets", group, "--topic", topic, "--to-offset", "1000", "-b", Bootstrap);
        AssertOk(toOffset); // clamped to each partition's end
        var json = await Run("groups", "describe", group, "--format", "json", "-b", Bootstrap);
        Assert.All(PartitionRows(json, topic), r => Assert.Equal(0, r.GetProperty("lag").GetInt64()));
    }

    [Fact]
    public async Task ResetOffsetsAndDelete_GroupWithActiveMember_RefusedUntilItLeaves()
    {
        var topic = await NewTopicAsync("busy", 2);
        var group = Unique.Name("g-busy");
        // It commits what it reads: a group without offsets is gone once its last member leaves (as in Kafka).
        await ProduceAsync(topic, ["x", "y", "z"]);
        using var member = StartConsumer(topic, "--group", group, "--from-beginning");
        await WaitForGroupAsync(group, g => g.State == "Stable" && g.Members.Count == 1);
        await Wait.UntilAsync(() => Lines(member.Stdout).Length >= 3, s_deadline);

        var reset = await Run("groups", "reset-offsets", group, "--topic", topic, "--to-earliest", "-b", Bootstrap);
        Assert.True(reset.ExitCode == 1, reset.ToString());
        Assert.Contains($"cannot reset offsets of group '{group}': it has 1 active member(s)", reset.Stderr);

        var refused = await Run("groups", "delete", group, "-b", Bootstrap);
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains($"group '{group}' has active members", refused.Stderr);

        var describe = await Run("groups", "describe", group, "-b", Bootstrap);
        AssertOk(describe);
        Assert.Contains("state     Stable", describe.Stdout);
        Assert.Matches($@"(?m)^edgestream-\S+\s+edgestream\s+\S+\s+{topic}:0,1$", describe.Stdout);

        // SIGINT: the member leaves at once (no session timeout to wait out).
        await StopAsync(member);
        await WaitForGroupAsync(group, g => g.Members.Count == 0);
        AssertOk(await Run("groups", "delete", group, "-b", Bootstrap));
        var list = await Run("groups", "list", "-b", Bootstrap);
        AssertOk(list);
        Assert.DoesNotContain(group, list.Lines);
        var gone = await Run("groups", "describe", group, "-b", Bootstrap);
        Assert.True(gone.ExitCode == 1, gone.ToString());
        Assert.Contains($"group '{group}' does not exist", gone.Stderr);
    }

    [Fact]
    public async Task GroupsDescribe_GroupOfKcat_ShowsMemberAssignmentAndCommits()
    {
        var topic = await NewTopicAsync("kcatgrp", 2);
        var group = Unique.Name("g-kcat");
        await ProduceAsync(topic, Enumerable.Range(0, 6).Select(i => $"k{i}"));
        var psi = new ProcessStartInfo("kcat") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-b", Bootstrap, "-G", group, "-o", "beginning", "-q", "-X", "auto.commit.interval.ms=100", "-X", "client.id=kcat-test", topic })
            psi.ArgumentList.Add(arg);
        using var kcat = Process.Start(psi)!;
        try
        {
            await WaitForGroupAsync(group, g => g.State == "Stable" && g.Members.Count == 1 && g.Members[0].Assignment.Sum(a => a.Partitions.Count) == 2);
            // Until kcat's auto-commits have caught up: both partitions at lag 0 (asserted below).
            var (_, describe) = await Wait.UntilAsync(async () =>
                {
                    var d = await Run("groups", "describe", group, "-b", Bootstrap);
                    AssertOk(d);
                    return d;
                },
                d => System.Text.RegularExpressions.Regex.Matches(d.Stdout, $@"(?m)^{topic}\s+\d\s+\d+\s+\d+\s+0\s+\S+$").Count == 2,
                s_deadline, TimeSpan.FromMilliseconds(200));
            Assert.Contains("protocol  consumer/", describe.Stdout);
            Assert.Matches($@"(?m)^\S+\s+kcat-test\s+\S+\s+{topic}:0,1$", describe.Stdout);
            Assert.Matches($@"(?m)^{topic}\s+0\s+\d+\s+\d+\s+0\s+\S+$", describe.Stdout);
            Assert.Matches($@"(?m)^{topic}\s+1\s+\d+\s+\d+\s+0\s+\S+$", describe.Stdout);
        }
        finally
        {
            kcat.Kill(entireProcessTree: true);
            await kcat.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task ConsumeGroup_WithPartitionOrOffset_UsageError()
    {
        var result = await Run("consume", "t", "--group", "g", "--partition", "0", "-b", Bootstrap);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--group", result.Stderr);

        var reset = await Run("groups", "reset-offsets", "g", "--topic", "t", "-b", Bootstrap);
        Assert.True(reset.ExitCode == 2, reset.ToString());
        Assert.Contains("exactly one of --to-earliest, --to-latest, --to-offset", reset.Stderr);
    }

    [Theory]
    [InlineData("groups")]
    [InlineData("groups", "list")]
    [InlineData("groups", "describe")]
    [InlineData("groups", "reset-offsets")]
    [InlineData("groups", "delete")]
    public async Task Help_EveryGroupsVerb_Exit0WithUsage(params string[] verb)
    {
        var result = await Run([.. verb, "--help"]);
        AssertOk(result);
        Assert.Contains("Usage:", result.Stdout);
        if (verb.Length == 2 && verb[1] != "list") Assert.Contains("GROUP", result.Stdout);
    }
}
