using EdgeStream.TestSupport;
using static EdgeStream.Uplink.Sender.Tests.SenderHelpers;

namespace EdgeStream.Uplink.Sender.Tests;

/// <summary>A real edge agent process forwarding to a fake parent in the test process.</summary>
public sealed class ForwarderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Edge_TenThousandRecords_ThroughParentOutageAndKill9_ArriveExactlyOnceInOrder()
    {
        using var dir = new TempDirectory();
        await using var parent = await FakeParent.StartAsync();
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge",
            "--node-id", "edge-t1", "--partitions", "3", "--parent", parent.Address, "--uplink-max-backoff", "1s");

        // 1. Steady state.
        var produced = Produce(edge.Bootstrap, "sensors", 0, 3000);
        Assert.True(await Wait.UntilAsync(() => parent.State.TotalRecords >= 1, Patience), $"nothing arrived.\n{edge.Process.Stderr}");

        // 2. The parent goes away mid-way; the edge keeps accepting and storing.
        await parent.StopAsync();
        produced.AddRange(Produce(edge.Bootstrap, "sensors", 3000, 3000));
        await parent.StartAsync();
        Assert.True(await Wait.UntilAsync(() => parent.State.TotalRecords >= 6000, Patience),
            $"{parent.State.TotalRecords} of 6000 arrived after the parent came back.\n{edge.Process.Stderr}");
        Assert.Equal(0, parent.State.GapsOnArrival);

        // 3. kill -9 while forwarding: the edge resumes from its saved cursors.
        produced.AddRange(Produce(edge.Bootstrap, "sensors", 6000, 4000));
        await edge.RestartAsync(kill: true);
        Assert.True(await Wait.UntilAsync(() => parent.State.TotalRecords >= 10_000, Patience),
            $"{parent.State.TotalRecords} of 10000 arrived after kill -9.\n{edge.Process.Stderr}");

        AssertExactlyOnce(parent.State, "edge-t1", "sensors", produced);
        Assert.Equal(0, parent.State.GapsOnArrival);
        Assert.Equal([("edge-t1", "edge")], parent.State.Children);
        // Re-sends after kill -9 are at most what was unacknowledged or unsaved: far from everything.
        Assert.True(parent.State.DuplicateRecords < 10_000, $"{parent.State.DuplicateRecords} duplicate records");

        // Status: everything acknowledged, no backlog (published about once a second).
        Assert.True(await Wait.UntilAsync(async () =>
        {
            var status = await edge.StatusAsync();
            return status.TryGetProperty("uplinkSender", out var e) && e.GetProperty("backlogRecords").GetInt64() == 0 && e.GetProperty("connected").GetBoolean()
                   && e.GetProperty("parent").GetString() == parent.Address && e.GetProperty("partitions").GetArrayLength() == 3;
        }, TimeSpan.FromSeconds(30)), "status never showed an empty backlog");
    }

    [Fact]
    public async Task Edge_FirstParentDown_FailsOverToSecond()
    {
        using var dir = new TempDirectory();
        var dead = AgentProcess.FreePort(); // nothing listens here
        await using var parent = await FakeParent.StartAsync();
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge",
            "--node-id", "edge-t2", "--parent", $"127.0.0.1:{dead}", "--parent", parent.Address, "--uplink-max-backoff", "1s");

        var produced = Produce(edge.Bootstrap, "events", 0, 500);
        Assert.True(await Wait.UntilAsync(() => parent.State.TotalRecords >= 500, Patience),
            $"{parent.State.TotalRecords} of 500 arrived at the second parent.\n{edge.Process.Stderr}");
        AssertExactlyOnce(parent.State, "edge-t2", "events", produced);
        Assert.Contains("failing over", edge.Process.Stdout + edge.Process.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Edge_ParentStorageFull_FramesSentAgainLater_NothingLostOrDuplicated()
    {
        using var dir = new TempDirectory();
        await using var parent = await FakeParent.StartAsync();
        parent.State.RefuseNext(3);
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge",
            "--node-id", "edge-t3", "--parent", parent.Address);

        var produced = Produce(edge.Bootstrap, "metrics", 0, 300);
        Assert.True(await Wait.UntilAsync(() => parent.State.TotalRecords >= 300, Patience),
            $"{parent.State.TotalRecords} of 300 arrived.\n{edge.Process.Stderr}");
        Assert.Equal(3, parent.State.RefusedFrames);
        AssertExactlyOnce(parent.State, "edge-t3", "metrics", produced);
    }

    [Fact]
    public async Task Edge_TopicFilterPrefixAndRename_OnlySelectedTopicsGoUpUnderTheirTargetNames()
    {
        using var dir = new TempDirectory();
        await using var parent = await FakeParent.StartAsync();
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge",
            "--node-id", "edge-t4", "--parent", parent.Address,
            "--uplink-topics", "keep.*", "--uplink-prefix", "site9.", "--uplink-rename", "keep.raw=raw-all");

        Produce(edge.Bootstrap, "keep.a", 0, 10);
        Produce(edge.Bootstrap, "keep.raw", 0, 10);
        Produce(edge.Bootstrap, "local-only", 0, 10);
        Assert.True(await Wait.UntilAsync(() => parent.State.TotalRecords >= 20, Patience), edge.Process.Stderr);
        // A topic created later than the others is still picked up, and nothing else arrives.
        Produce(edge.Bootstrap, "keep.late", 0, 5);
        Assert.True(await Wait.UntilAsync(() => parent.State.TotalRecords >= 25, Patience), edge.Process.Stderr);
        // Nothing else arrives. The sender publishes its backlog right after each topic scan; one that
        // lists keep.late comes from a scan that also saw local-only (created before it). When that
        // backlog is empty, every selected partition is acknowledged by the parent: had local-only
        // been selected, its records would be in the backlog or already counted at the parent.
        Assert.True(await Wait.UntilAsync(async () =>
        {
            var status = await edge.StatusAsync();
            return status.TryGetProperty("uplinkSender", out var e) && e.GetProperty("backlogRecords").GetInt64() == 0
                   && e.GetProperty("partitions").EnumerateArray().Any(p => p.GetProperty("topic").GetString() == "keep.late");
        }, Patience), "the sender's backlog never showed keep.late fully acknowledged");

        Assert.Equal(25, parent.State.TotalRecords);
        Assert.Equal(["keep.a", "keep.late", "keep.raw"], parent.State.StreamKeys.Select(k => k.Topic).Order());
        Assert.Equal(["raw-all", "site9.keep.a", "site9.keep.late"], parent.State.TargetTopics.Order());
    }
}

/// <summary>Edge to a real gateway agent: the receiver of branch uplink-recv.</summary>
public sealed class GatewayEndToEndTests
{
    [Fact]
    public async Task EdgeToGateway_EveryRecordOnceInTheGatewayLog_WithOriginHeaders()
    {
        using var dir = new TempDirectory();
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", "--node-id", "gw-e2e");
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge",
            "--node-id", "edge-g1", "--partitions", "2", "--parent", $"127.0.0.1:{gateway.UplinkPort}");

        var produced = Produce(edge.Bootstrap, "telemetry", 0, 2000);
        // Once the edge's parent acknowledged all it holds, the gateway has every record it will get,
        // duplicates included (see UplinkDrainedAsync): reading its log to the end sees them.
        Assert.True(await Wait.UntilAsync(() => edge.UplinkDrainedAsync("telemetry"), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500)),
            $"the edge never had everything acknowledged.\nedge:\n{edge.Process.Stderr}\ngateway:\n{gateway.Process.Stderr}");
        var consumed = Consume(gateway.Bootstrap, "telemetry");

        Assert.True(consumed.Count == 2000, $"{consumed.Count} of 2000 in the gateway log.\nedge:\n{edge.Process.Stderr}\ngateway:\n{gateway.Process.Stderr}");
        var byOrigin = consumed.ToDictionary(c => (int.Parse(c.Headers["es.origin.partition"]), long.Parse(c.Headers["es.origin.offset"])));
        Assert.Equal(2000, byOrigin.Count); // no origin offset twice
        foreach (var p in produced)
        {
            var c = byOrigin[(p.Partition, p.Offset)];
            Assert.Equal(p.Key, c.Key);
            Assert.Equal(p.Value, c.Value);
            Assert.Equal("edge-g1", c.Headers["es.origin.node"]);
            Assert.Equal("telemetry", c.Headers["es.origin.topic"]);
            // The user's headers first, byte for byte, then the four origin headers.
            Assert.Equal(["n", "kind", "es.origin.node", "es.origin.topic", "es.origin.partition", "es.origin.offset"], c.HeaderKeys);
            Assert.Equal(System.Text.Encoding.UTF8.GetString(p.Headers[0].Value), c.Headers["n"]);
        }
    }

    private sealed record Consumed(byte[] Key, byte[] Value, Dictionary<string, string> Headers, List<string> HeaderKeys);

    private static List<Consumed> Consume(string bootstrap, string topic)
    {
        var consumed = new List<Consumed>();
        foreach (var r in LogReader.ReadToEnd(bootstrap, topic))
        {
            var headers = new Dictionary<string, string>();
            foreach (var h in r.Message.Headers) headers[h.Key] = System.Text.Encoding.UTF8.GetString(h.GetValueBytes());
            consumed.Add(new Consumed(r.Message.Key, r.Message.Value, headers, [.. r.Message.Headers.Select(h => h.Key)]));
        }
        return consumed;
    }
}
