using System.Text.Json;
using EdgeStream.TestSupport;
using Xunit.Abstractions;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// Cloud nodes with <c>--sink</c> forwarding into an "external Kafka cluster" — another EdgeStream
/// process, reached only through the Kafka protocol — exactly once, in origin order, headers intact:
/// across kill -9 of a cloud node (its gateway moving to the other one), kill -9 of the external
/// broker, and the external cluster being down while the edges keep producing.
/// </summary>
public sealed class CloudSinkTests(ITestOutputHelper output)
{
    private const string Topic = "telemetry";
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(90);

    private static string[] SinkArgs(AgentNode external, string nodeId) =>
        ["--node-id", nodeId, "--partitions", Hierarchy.Partitions.ToString(), "--sink", $"kafka://{external.Bootstrap}",
         // Longer than a cloud node is down in these tests: the other one waits for what only it holds.
         "--sink-gap-wait", "120s"];

    [Fact]
    public async Task TwoCloudNodesSinking_CloudAndExternalKilled_EveryRecordOnceInOrderAtTheExternalCluster()
    {
        using var dir = new TempDirectory();
        var partitions = Hierarchy.Partitions.ToString();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var external = await AgentNode.StartAsync(dir.Combine("external"), "cloud", "--node-id", "external", "--partitions", partitions);
        // Each tier's nodes start side by side: seven processes share two cores here.
        var clouds = await Task.WhenAll(
            AgentNode.StartAsync(dir.Combine("cloud-a"), "cloud", SinkArgs(external, "cloud-a")),
            AgentNode.StartAsync(dir.Combine("cloud-b"), "cloud", SinkArgs(external, "cloud-b")));
        await using var cloudA = clouds[0];
        await using var cloudB = clouds[1];
        var toA = $"127.0.0.1:{cloudA.UplinkPort}";
        var toB = $"127.0.0.1:{cloudB.UplinkPort}";
        var gateways = await Task.WhenAll(
            AgentNode.StartAsync(dir.Combine("gw-a"), "gateway", "--node-id", "gw-a", "--partitions", partitions, "--parent", toA, "--parent", toB),
            AgentNode.StartAsync(dir.Combine("gw-b"), "gateway", "--node-id", "gw-b", "--partitions", partitions, "--parent", toB, "--parent", toA));
        await using var gwA = gateways[0];
        await using var gwB = gateways[1];
        var edges = await Task.WhenAll(
            AgentNode.StartAsync(dir.Combine("edge-a"), "edge", "--node-id", "edge-a", "--partitions", partitions, "--parent", $"127.0.0.1:{gwA.UplinkPort}"),
            AgentNode.StartAsync(dir.Combine("edge-b"), "edge", "--node-id", "edge-b", "--partitions", partitions, "--parent", $"127.0.0.1:{gwB.UplinkPort}"));
        await using var edgeA = edges[0];
        await using var edgeB = edges[1];
        output.WriteLine($"{clock.Elapsed}: seven nodes up");

        using var stop = new CancellationTokenSource();
        var producerA = ProduceSteadilyAsync(edgeA, "a", stop.Token);
        var producerB = ProduceSteadilyAsync(edgeB, "b", stop.Token);

        // Mid-stream: both sinks deliver; then the external broker dies and cloud A piles up records
        // it acknowledged to gateway A but could not forward yet — and then cloud A dies too.
        Assert.True(await Wait.UntilAsync(async () => await SentAsync(cloudA) > 1_000 && await SentAsync(cloudB) > 1_000, Drain, TimeSpan.FromMilliseconds(200)),
            $"the sinks sent nothing.\n{await SinkTextAsync(cloudA)}\n{await SinkTextAsync(cloudB)}");
        await external.KillAsync();
        output.WriteLine($"{clock.Elapsed}: external killed");
        Assert.True(await Wait.UntilAsync(async () => await LagAsync(cloudA) > 1_000, Drain, TimeSpan.FromMilliseconds(200)),
            $"cloud A holds nothing unsent.\n{await SinkTextAsync(cloudA)}");
        await cloudA.KillAsync();
        output.WriteLine($"{clock.Elapsed}: cloud A killed");

        // Gateway A fails over to cloud B; when the external broker is back, cloud B holds gateway A's
        // origins only from after what cloud A kept: it must wait for cloud A rather than write past the gap.
        Assert.True(await Wait.UntilAsync(async () => await ConnectedParentAsync(gwA) == toB, Drain, TimeSpan.FromMilliseconds(200)),
            $"gateway A did not move to cloud B.\n{gwA.Process.Stderr}");
        await external.RestartAsync();
        output.WriteLine($"{clock.Elapsed}: gateway A on cloud B; external restarted");
        Assert.True(await Wait.UntilAsync(async () => await StateAsync(cloudB) == "waiting-for-gap", Drain, TimeSpan.FromMilliseconds(100)),
            $"cloud B did not wait for the records only cloud A holds.\n{await SinkTextAsync(cloudB)}");
        await cloudA.RestartAsync();
        output.WriteLine($"{clock.Elapsed}: cloud A restarted");

        // Cloud A delivers what only it had, cloud B goes on after it. Later the external broker dies again mid-stream.
        var atB = await SentAsync(cloudB);
        Assert.True(await Wait.UntilAsync(async () => await CaughtUpAsync(cloudA) && await SentAsync(cloudB) > atB && await StateAsync(cloudB) == "connected",
                Drain, TimeSpan.FromMilliseconds(200)),
            $"the sinks did not go on after cloud A's restart.\n{await SinkTextAsync(cloudA)}\n{await SinkTextAsync(cloudB)}");
        output.WriteLine($"{clock.Elapsed}: both sinks delivering");
        await external.KillAsync();
        Assert.True(await Wait.UntilAsync(async () => await StateAsync(cloudB) == "retrying", Drain, TimeSpan.FromMilliseconds(100)),
            "cloud B's sink did not notice the external cluster was gone");
        await external.RestartAsync();
        output.WriteLine($"{clock.Elapsed}: external killed and restarted again");

        stop.Cancel();
        var producedA = await producerA;
        var producedB = await producerB;

        output.WriteLine($"{clock.Elapsed}: produced {producedA} + {producedB}");
        var arrived = await ReadAllAtExternalAsync(external, producedA + producedB, [cloudA, cloudB], edgeA, edgeB, gwA, gwB);
        output.WriteLine($"{clock.Elapsed}: all at the external cluster\ncloud A: {await SinkTextAsync(cloudA)}\ncloud B: {await SinkTextAsync(cloudB)}");
        Hierarchy.AssertExactlyOnce(arrived, "a", producedA, "edge-a", Topic);
        Hierarchy.AssertExactlyOnce(arrived, "b", producedB, "edge-b", Topic);
        Assert.Equal(producedA + producedB, arrived.Count);
        foreach (var cloud in new[] { cloudA, cloudB })
        {
            var sink = await SinkAsync(cloud);
            Assert.Equal(0, sink.GetProperty("duplicatesFound").GetInt64());
            Assert.Equal(0, sink.GetProperty("gapsAccepted").GetInt64());
        }
    }

    [Fact]
    public async Task ExternalClusterDown_CloudBuffersWhileEdgesProduce_EverythingArrivesOnceWhenItReturns()
    {
        using var dir = new TempDirectory();
        var partitions = Hierarchy.Partitions.ToString();
        var external = AgentNode.Prepare(dir.Combine("external"), "cloud", "--node-id", "external", "--partitions", partitions);
        await using var _ = external;
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", SinkArgs(external, "cloud-1"));
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gw"), "gateway", "--node-id", "gw-1", "--partitions", partitions,
            "--parent", $"127.0.0.1:{cloud.UplinkPort}");
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--partitions", partitions,
            "--parent", $"127.0.0.1:{gateway.UplinkPort}");

        // The external cluster is down: the cloud takes and keeps everything, its sink retries.
        const int records = 20_000;
        Hierarchy.Produce(edge.Bootstrap, Topic, "k", 0, records);
        Assert.True(await Wait.UntilAsync(async () => await edge.UplinkDrainedAsync(Topic) && await gateway.UplinkDrainedAsync(Topic), Drain, TimeSpan.FromMilliseconds(500)),
            "the cloud did not take the edge's records while the external cluster was down");
        Assert.Equal(records, LogReader.Count(cloud.Bootstrap, Topic));
        Assert.True(await Wait.UntilAsync(async () => await StateAsync(cloud) == "retrying" && await LagAsync(cloud) == records, Drain, TimeSpan.FromMilliseconds(200)),
            $"the sink does not show the external cluster down with {records} records buffered.\n{await SinkTextAsync(cloud)}");

        await external.RestartAsync();
        Hierarchy.Produce(edge.Bootstrap, Topic, "k", records, records + 5_000);

        var arrived = await ReadAllAtExternalAsync(external, records + 5_000, [cloud], edge, gateway);
        Hierarchy.AssertExactlyOnce(arrived, "k", records + 5_000, "edge-a", Topic);
        Assert.Equal("connected", await StateAsync(cloud));
    }

    [Fact]
    public async Task ConnectionsResetWithProducesInFlight_EveryRecordOnceInOrderAtTheExternalCluster()
    {
        using var dir = new TempDirectory();
        var partitions = Hierarchy.Partitions.ToString();
        var proxyPort = AgentProcess.FreePort();
        var external = AgentNode.Prepare(dir.Combine("external"), "cloud", "--node-id", "external", "--partitions", partitions,
            "--kafka-advertised", $"127.0.0.1:{proxyPort}");
        await using var _ = external;
        // Each sink worker's connection is reset right after its second produce reached the broker, while
        // more are written behind it: that one landed unacknowledged, the ones after it did not land.
        await using var proxy = new ProduceCuttingProxy(proxyPort, external.KafkaPort, cuts: Hierarchy.Partitions, cutAfterProduces: 2);
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud",
            "--node-id", "cloud-1", "--partitions", partitions, "--sink", $"kafka://127.0.0.1:{proxyPort}", "--sink-gap-wait", "120s");

        // A backlog of several produces per partition, taken while the external cluster is down, so the windows fill.
        const int records = 90_000;
        await BufferBacklogAsync(cloud, records);
        await external.RestartAsync();

        var arrived = await ReadAllAtExternalAsync(external, records, [cloud]);
        output.WriteLine($"{proxy.CutsDone} connections reset\n{await SinkTextAsync(cloud)}");
        Assert.True(proxy.CutsDone > 0, "no connection was reset with produces in flight: the test proved nothing");
        await AssertBacklogOnceAsync(arrived, records, cloud);
    }

    [Fact]
    public async Task ExternalKilledTwiceWhileABacklogStreamsOut_EveryRecordOnceInOrderAtTheExternalCluster()
    {
        using var dir = new TempDirectory();
        var partitions = Hierarchy.Partitions.ToString();
        var external = AgentNode.Prepare(dir.Combine("external"), "cloud", "--node-id", "external", "--partitions", partitions);
        await using var _ = external;
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", SinkArgs(external, "cloud-1"));

        const int records = 120_000;
        await BufferBacklogAsync(cloud, records);

        // Killed mid-stream, twice: each time with a window of produces in flight whose acknowledgements never come.
        for (var round = 0; round < 2; round++)
        {
            await external.RestartAsync();
            var before = await SentAsync(cloud);
            Assert.True(await Wait.UntilAsync(async () => await SentAsync(cloud) > before, Drain, TimeSpan.FromMilliseconds(20)),
                $"the sink sent nothing after the external cluster came back.\n{await SinkTextAsync(cloud)}");
            if (await LagAsync(cloud) == 0) break; // all out already on a fast machine: nothing left to kill in flight
            await external.KillAsync();
            output.WriteLine($"round {round}: external killed with {await LagAsync(cloud)} records left\n{await SinkTextAsync(cloud)}");
        }
        if (!external.IsRunning) await external.RestartAsync();

        var arrived = await ReadAllAtExternalAsync(external, records, [cloud]);
        await AssertBacklogOnceAsync(arrived, records, cloud);
    }

    /// <summary>Produces records [0, <paramref name="records"/>) of tag "k" straight into <paramref name="cloud"/> and waits until its sink shows them all unsent.</summary>
    private static async Task BufferBacklogAsync(AgentNode cloud, int records)
    {
        Hierarchy.Produce(cloud.Bootstrap, Topic, "k", 0, records);
        Assert.True(await Wait.UntilAsync(async () => await LagAsync(cloud) == records, Drain, TimeSpan.FromMilliseconds(200)),
            $"the sink does not show {records} records buffered.\n{await SinkTextAsync(cloud)}");
    }

    /// <summary>The backlog of <see cref="BufferBacklogAsync"/> arrived once, in order, and the sink saw no duplicate.</summary>
    private static async Task AssertBacklogOnceAsync(List<Arrived> arrived, int records, AgentNode cloud)
    {
        Hierarchy.AssertExactlyOnce(arrived, "k", records, "cloud-1", Topic);
        Assert.Equal(records, arrived.Count);
        Assert.Equal(0, (await SinkAsync(cloud)).GetProperty("duplicatesFound").GetInt64());
    }

    /// <summary>Produces chunks of records at <paramref name="edge"/> until cancelled; returns how many it produced ([0, n) of the tag).</summary>
    private static Task<int> ProduceSteadilyAsync(AgentNode edge, string tag, CancellationToken stop) => Task.Run(async () =>
    {
        const int chunk = 500;
        var produced = 0;
        while (!stop.IsCancellationRequested)
        {
            Hierarchy.Produce(edge.Bootstrap, Topic, tag, produced, produced + chunk);
            produced += chunk;
            // Pace, so the stream lasts through the kills rather than racing ahead of them.
            try { await Task.Delay(50, stop); }
            catch (OperationCanceledException) { }
        }
        return produced;
    });

    /// <summary>
    /// Everything the external cluster holds once nothing more can come: every sender below has had
    /// its records acknowledged, and every cloud node's sink has nothing left to forward.
    /// </summary>
    private static async Task<List<Arrived>> ReadAllAtExternalAsync(AgentNode external, int expected, AgentNode[] clouds, params AgentNode[] senders)
    {
        var done = await Wait.UntilAsync(async () =>
        {
            foreach (var sender in senders)
                if (!await sender.UplinkDrainedAsync(Topic)) return false;
            foreach (var cloud in clouds)
                if (!await CaughtUpAsync(cloud)) return false;
            return LogReader.Count(external.Bootstrap, Topic) >= expected;
        }, Drain, TimeSpan.FromMilliseconds(500));
        var report = new List<string>();
        foreach (var cloud in clouds) report.Add(await SinkTextAsync(cloud));
        Assert.True(done, $"not everything reached the external cluster ({LogReader.Count(external.Bootstrap, Topic)} of {expected}).\n{string.Join("\n", report)}");
        return Hierarchy.ReadToEnd(external.Bootstrap, Topic, Drain);
    }

    private static async Task<JsonElement> SinkAsync(AgentNode cloud) => (await cloud.StatusAsync()).GetProperty("sink");

    private static async Task<string> SinkTextAsync(AgentNode cloud) =>
        cloud.IsRunning ? (await SinkAsync(cloud)).GetRawText() : "(not running)";

    private static async Task<long> SentAsync(AgentNode cloud) => (await SinkAsync(cloud)).GetProperty("recordsSent").GetInt64();

    /// <summary>Every partition's worker has started and has nothing left to forward.</summary>
    private static async Task<bool> CaughtUpAsync(AgentNode cloud)
    {
        var partitions = (await SinkAsync(cloud)).GetProperty("partitions");
        return partitions.GetArrayLength() == Hierarchy.Partitions && partitions.EnumerateArray().All(p => p.GetProperty("lag").GetInt64() == 0);
    }

    private static async Task<long> LagAsync(AgentNode cloud) => (await SinkAsync(cloud)).GetProperty("lagRecords").GetInt64();

    private static async Task<string?> StateAsync(AgentNode cloud) => (await SinkAsync(cloud)).GetProperty("state").GetString();

    /// <summary>The parent whose stream answers now, or null.</summary>
    private static async Task<string?> ConnectedParentAsync(AgentNode node) =>
        (await node.StatusAsync()).TryGetProperty("uplinkSender", out var sender) && sender.GetProperty("connected").GetBoolean()
            ? sender.GetProperty("parent").GetString()
            : null;
}
