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
        Assert.True(await Wait.UntilAsync(() =>
        {
            var s = SenderStatusAsync(edge.HttpPort).GetAwaiter().GetResult();
            return s is { } e && e.GetProperty("backlogRecords").GetInt64() == 0 && e.GetProperty("connected").GetBoolean()
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
        await Task.Delay(1500);

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
        var consumed = Consume(gateway.Bootstrap, "telemetry", 2000, TimeSpan.FromSeconds(90));

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

    private static List<Consumed> Consume(string bootstrap, string topic, int expected, TimeSpan timeout)
    {
        using var consumer = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "uplink-e2e-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
            BrokerAddressFamily = Confluent.Kafka.BrokerAddressFamily.V4,
            FetchWaitMaxMs = 100,
            TopicMetadataRefreshIntervalMs = 1000,
        }).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        var seen = new List<Consumed>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (seen.Count < expected && sw.Elapsed < timeout)
        {
            Confluent.Kafka.ConsumeResult<byte[], byte[]>? r;
            try
            {
                r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (Confluent.Kafka.ConsumeException ex) when (ex.Error.Code == Confluent.Kafka.ErrorCode.UnknownTopicOrPart)
            {
                continue; // the uplink has not created it at the gateway yet
            }
            if (r is null || r.IsPartitionEOF) continue;
            var headers = new Dictionary<string, string>();
            var keys = new List<string>();
            foreach (var h in r.Message.Headers)
            {
                headers[h.Key] = System.Text.Encoding.UTF8.GetString(h.GetValueBytes());
                keys.Add(h.Key);
            }
            seen.Add(new Consumed(r.Message.Key, r.Message.Value, headers, keys));
        }
        // A little longer: anything beyond the expected count is a duplicate the test must see.
        var extra = System.Diagnostics.Stopwatch.StartNew();
        while (extra.Elapsed < TimeSpan.FromSeconds(2))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null || r.IsPartitionEOF) continue;
            seen.Add(new Consumed(r.Message.Key, r.Message.Value, [], []));
        }
        consumer.Close();
        return seen;
    }
}
