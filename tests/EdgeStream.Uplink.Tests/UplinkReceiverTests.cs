using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EdgeStream.TestSupport;
using EdgeStream.Uplink.Grpc;
using EdgeStream.Uplink.Protocol;

namespace EdgeStream.Uplink.Tests;

/// <summary>The receiver of a real gateway process: frames in over gRPC, records out over Kafka.</summary>
public sealed class UplinkReceiverTests
{
    [Fact]
    public async Task Forward_FrameOf1000Records_OkAndRecordsByteIdenticalWithOriginHeaders()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway");
        await using var child = UplinkTestClient.Open(node.UplinkPort, "edge-1");

        var frame = Frames.Make("edge-1", "sensors", first: 5000, count: 1000, target: "site1.sensors");
        var reply = await child.SendAndReadAsync(frame);

        Assert.True(reply.Code == ReplyCode.Ok, $"{reply.Code}: {reply.Message}\n{node.Process.Stderr}");
        Assert.Equal(5999, reply.OriginLastOffset);
        var records = Log.Read(node.Bootstrap, "site1.sensors", 1000);
        Assert.Equal(1000, records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var expected = frame.Records[i];
            var r = records[i];
            Assert.Equal(i, r.Offset);
            Assert.Equal(expected.Timestamp, r.Timestamp);
            Assert.Equal(expected.Key!.Value.ToArray(), r.Key);
            Assert.Equal(expected.Value!.Value.ToArray(), r.Value);
            // The user's headers first, byte for byte, then the four origin headers.
            Assert.Equal(6, r.Headers.Count);
            Assert.Equal("trace", r.Headers[0].Key);
            Assert.Equal(expected.Headers[0].Value!.Value.ToArray(), r.Headers[0].Value);
            Assert.Equal("empty", r.Headers[1].Key);
            Assert.Null(r.Headers[1].Value);
            Assert.Equal([OriginHeaders.Node, OriginHeaders.Topic, OriginHeaders.Partition, OriginHeaders.Offset],
                r.Headers.Skip(2).Select(h => h.Key));
            Assert.Equal("edge-1", r.Header(OriginHeaders.Node));
            Assert.Equal("sensors", r.Header(OriginHeaders.Topic));
            Assert.Equal("0", r.Header(OriginHeaders.Partition));
            Assert.Equal((5000 + i).ToString(), r.Header(OriginHeaders.Offset));
        }
    }

    [Fact]
    public async Task Forward_SameFrameAgain_DuplicateAlsoAfterKill_AndOverlapWritesOnlyNewPart()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway");
        var frame = Frames.Make("edge-1", "t", first: 0, count: 100);

        await using (var child = UplinkTestClient.Open(node.UplinkPort, "edge-1"))
        {
            Assert.Equal(ReplyCode.Ok, (await child.SendAndReadAsync(frame)).Code);
            var again = await child.SendAndReadAsync(frame);
            Assert.Equal(ReplyCode.Duplicate, again.Code);
            Assert.Equal(99, again.OriginLastOffset);
        }
        // A new stream (a reconnect) sees the same state.
        await using (var child = UplinkTestClient.Open(node.UplinkPort, "edge-1"))
            Assert.Equal(ReplyCode.Duplicate, (await child.SendAndReadAsync(frame)).Code);
        Assert.Equal(100, Log.HighWatermark(node.Bootstrap, "t"));

        // kill -9: the de-dup state is rebuilt from the batch headers in the log.
        await node.RestartAsync(kill: true);
        await using (var child = UplinkTestClient.Open(node.UplinkPort, "edge-1"))
        {
            Assert.Equal(ReplyCode.Duplicate, (await child.SendAndReadAsync(frame)).Code);
            // 50..149 overlaps 0..99: only 100..149 is written.
            var overlap = await child.SendAndReadAsync(Frames.Make("edge-1", "t", first: 50, count: 100));
            Assert.Equal(ReplyCode.Ok, overlap.Code);
            Assert.Equal(149, overlap.OriginLastOffset);
        }
        Assert.Equal(150, Log.HighWatermark(node.Bootstrap, "t"));
        var records = Log.Read(node.Bootstrap, "t", 150);
        Assert.Equal(Enumerable.Range(0, 150).Select(i => i.ToString()), records.Select(r => r.Header(OriginHeaders.Offset)));
        Assert.Equal(Frames.Key(120), records[120].Key);

        // And after a second kill, 0..149 is known, so a frame spanning a stored range and a new
        // tail on both sides of nothing writes just the tail.
        await node.RestartAsync(kill: true);
        await using (var child = UplinkTestClient.Open(node.UplinkPort, "edge-1"))
        {
            Assert.Equal(ReplyCode.Duplicate, (await child.SendAndReadAsync(Frames.Make("edge-1", "t", first: 10, count: 140))).Code);
            Assert.Equal(ReplyCode.Ok, (await child.SendAndReadAsync(Frames.Make("edge-1", "t", first: 140, count: 20))).Code);
        }
        Assert.Equal(160, Log.HighWatermark(node.Bootstrap, "t"));
    }

    [Fact]
    public async Task Forward_OutOfOrderRanges_BothStoredThenGapFillerIsDuplicate()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway");
        await using var child = UplinkTestClient.Open(node.UplinkPort, "edge-1");

        Assert.Equal(ReplyCode.Ok, (await child.SendAndReadAsync(Frames.Make("edge-1", "t", first: 100, count: 100))).Code);
        Assert.Equal(ReplyCode.Ok, (await child.SendAndReadAsync(Frames.Make("edge-1", "t", first: 0, count: 100))).Code);
        Assert.Equal(ReplyCode.Duplicate, (await child.SendAndReadAsync(Frames.Make("edge-1", "t", first: 0, count: 200))).Code);

        var records = Log.Read(node.Bootstrap, "t", 200);
        Assert.Equal(200, Log.HighWatermark(node.Bootstrap, "t"));
        var offsets = records.Select(r => long.Parse(r.Header(OriginHeaders.Offset)!)).ToList();
        Assert.Equal(Enumerable.Range(100, 100).Concat(Enumerable.Range(0, 100)).Select(i => (long)i), offsets);
    }

    [Fact]
    public async Task Forward_PipelinedFrames_RepliesInArrivalOrderAndAllStored()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway", "--fsync", "always");
        await using var child = UplinkTestClient.Open(node.UplinkPort, "edge-1");

        // 200 frames sent without waiting (more than the 64 pending replies: backpressure, not failure).
        var sending = Task.Run(async () =>
        {
            for (var f = 0; f < 200; f++) await child.SendAsync(Frames.Make("edge-1", "t", first: f * 10L, count: 10));
        });
        for (ulong id = 1; id <= 200; id++)
        {
            var reply = await child.ReadAsync();
            Assert.NotNull(reply);
            Assert.Equal(id, reply!.FrameId);
            Assert.True(reply.Code == ReplyCode.Ok, $"frame {id}: {reply.Code} {reply.Message}");
            Assert.Equal((long)id * 10 - 1, reply.OriginLastOffset);
        }
        await sending;
        Assert.Equal(2000, Log.HighWatermark(node.Bootstrap, "t"));
    }

    [Fact]
    public async Task Forward_TargetTopicCreatedWithOriginPartitionCount_PartitionIsOriginPartition()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway", "--partitions", "2");
        await using var child = UplinkTestClient.Open(node.UplinkPort, "edge-1");

        var reply = await child.SendAndReadAsync(Frames.Make("edge-1", "multi", first: 0, count: 5, originPartition: 3, originPartitionCount: 4));
        Assert.Equal(ReplyCode.Ok, reply.Code);

        Assert.Equal(4, LogReader.PartitionCount(node.Bootstrap, "multi"));
        var records = Log.Read(node.Bootstrap, "multi", 5, partition: 3);
        Assert.Equal(5, records.Count);
        Assert.All(records, r => Assert.Equal("3", r.Header(OriginHeaders.Partition)));
    }

    [Fact]
    public async Task Forward_GatewayChildRelaysOtherOrigins_EachOriginDeduplicatedOnItsOwn()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "cloud");
        await using var gateway = UplinkTestClient.Open(node.UplinkPort, "gw-1", "gateway");

        // Two origins, same topic and offsets: different streams, both stored.
        Assert.Equal(ReplyCode.Ok, (await gateway.SendAndReadAsync(Frames.Make("edge-a", "t", first: 0, count: 10))).Code);
        Assert.Equal(ReplyCode.Ok, (await gateway.SendAndReadAsync(Frames.Make("edge-b", "t", first: 0, count: 10))).Code);
        Assert.Equal(ReplyCode.Duplicate, (await gateway.SendAndReadAsync(Frames.Make("edge-a", "t", first: 0, count: 10))).Code);

        var records = Log.Read(node.Bootstrap, "t", 20);
        Assert.Equal(20, Log.HighWatermark(node.Bootstrap, "t"));
        Assert.Equal(10, records.Count(r => r.Header(OriginHeaders.Node) == "edge-a"));
        Assert.Equal(10, records.Count(r => r.Header(OriginHeaders.Node) == "edge-b"));
    }

    [Fact]
    public async Task Forward_LargeFrame_SplitUnderMaxMessageBytes()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway");
        await using var child = UplinkTestClient.Open(node.UplinkPort, "edge-1");

        // 3000 records of 2 KiB: ~6 MiB, over the default max.message.bytes (1 MiB) many times.
        var reply = await child.SendAndReadAsync(Frames.Make("edge-1", "big", first: 0, count: 3000, valueBytes: 2048));
        Assert.True(reply.Code == ReplyCode.Ok, $"{reply.Code}: {reply.Message}");
        Assert.Equal(3000, Log.HighWatermark(node.Bootstrap, "big"));
        var records = Log.Read(node.Bootstrap, "big", 3000);
        Assert.Equal(3000, records.Count);
        Assert.Equal(Frames.Record(2999, 2048).Value!.Value.ToArray(), records[2999].Value);

        // After a restart, every split batch is known: the re-send is a duplicate.
        await node.RestartAsync(kill: true);
        await using var again = UplinkTestClient.Open(node.UplinkPort, "edge-1");
        Assert.Equal(ReplyCode.Duplicate, (await again.SendAndReadAsync(Frames.Make("edge-1", "big", first: 0, count: 3000, valueBytes: 2048))).Code);
    }

    [Fact]
    public async Task Forward_DiskBudgetFull_StorageFullAndStreamStaysOpen_NothingMarkedStored()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway", "--max-disk", "256KiB");
        await using var child = UplinkTestClient.Open(node.UplinkPort, "edge-1");

        // Incompressible 100 KiB frames: the third cannot fit in the budget.
        var random = new Random(11);
        UplinkFrame Frame(long first)
        {
            var value = new byte[100 * 1024];
            random.NextBytes(value);
            return new UplinkFrame
            {
                OriginNode = "edge-1", OriginTopic = "t", OriginPartition = 0, OriginPartitionCount = 1, TargetTopic = "t",
                FirstOriginOffset = first, Records = [new UplinkRecord(0, null, value, [])],
            };
        }
        var codes = new List<ReplyCode>();
        for (var i = 0; i < 5; i++) codes.Add((await child.SendAndReadAsync(Frame(i))).Code);
        Assert.Equal(ReplyCode.Ok, codes[0]);
        Assert.Contains(ReplyCode.StorageFull, codes);
        var firstFull = codes.IndexOf(ReplyCode.StorageFull);
        // Every frame got an answer on the same stream: STORAGE_FULL does not close it.
        Assert.All(codes.Skip(firstFull), c => Assert.Equal(ReplyCode.StorageFull, c));

        // The refused offsets were not recorded as stored: a small re-send of one is written, not a duplicate.
        var retry = await child.SendAndReadAsync(Frames.Make("edge-1", "t", firstFull, 1, valueBytes: 1));
        Assert.True(retry.Code == ReplyCode.Ok, $"{retry.Code}: {retry.Message}");
        Assert.Equal(firstFull + 1, Log.HighWatermark(node.Bootstrap, "t"));
    }

    [Fact]
    public async Task Status_AfterFrames_ReportsUplinkCounters()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway");
        await using (var child = UplinkTestClient.Open(node.UplinkPort, "edge-1"))
        {
            Assert.Equal(ReplyCode.Ok, (await child.SendAndReadAsync(Frames.Make("edge-1", "t", first: 0, count: 10))).Code);
            Assert.Equal(ReplyCode.Duplicate, (await child.SendAndReadAsync(Frames.Make("edge-1", "t", first: 0, count: 10))).Code);
        }

        using var http = new HttpClient();
        var json = await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/v1/status");
        using var doc = JsonDocument.Parse(json);
        var uplink = doc.RootElement.GetProperty("uplink");
        Assert.Equal(1, uplink.GetProperty("childrenSeen").GetInt32());
        Assert.Equal(2, uplink.GetProperty("frames").GetInt64());
        Assert.Equal(10, uplink.GetProperty("records").GetInt64());
        Assert.Equal(1, uplink.GetProperty("duplicateFrames").GetInt64());
    }
}
