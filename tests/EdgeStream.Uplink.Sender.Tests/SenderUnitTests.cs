using System.Buffers.Binary;
using System.Text;
using EdgeStream.Records;
using EdgeStream.Uplink.Protocol;
using EdgeStream.Uplink.Sending;

namespace EdgeStream.Uplink.Sender.Tests;

/// <summary>The sender's pure pieces: no sockets, no sleeps.</summary>
public sealed class FrameBuilderTests
{
    private static readonly FrameSource Own = new("edge-1", "sensors", 2, 4, "site.sensors", RelayOrigins: false);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>One batch at <paramref name="baseOffset"/> with records "v{baseOffset+i}".</summary>
    private static byte[] Batch(long baseOffset, int count, Func<int, IReadOnlyList<RecordHeader>>? headers = null, int valueBytes = 10)
    {
        var builder = new RecordBatchBuilder();
        for (var i = 0; i < count; i++)
        {
            var value = Utf8(("v" + (baseOffset + i)).PadRight(valueBytes, '.'));
            builder.Add(Utf8("k" + (baseOffset + i)), value, 1_700_000_000_000 + baseOffset + i, headers?.Invoke(i));
        }
        var batch = builder.Build();
        RecordBatchHeader.SetBaseOffset(batch, baseOffset);
        return batch;
    }

    private static byte[] ControlBatch(long offset)
    {
        var batch = Batch(offset, 1);
        var attributes = BinaryPrimitives.ReadInt16BigEndian(batch.AsSpan(RecordBatchHeader.AttributesPosition));
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.AttributesPosition), (short)(attributes | 0x30));
        return batch;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static string Value(UplinkRecord r) => Encoding.UTF8.GetString(r.Value!.Value.Span).TrimEnd('.');

    [Fact]
    public void Build_ContiguousOwnBatches_OneFrameWithLocalOrigin()
    {
        var frames = new List<BuiltFrame>();
        var next = UplinkFrameBuilder.Build(Concat(Batch(0, 10), Batch(10, 10), Batch(20, 10)), 0, Own, 1 << 20, frames);

        Assert.Equal(30, next);
        var f = Assert.Single(frames);
        Assert.Equal(("edge-1", "sensors", 2, 4, "site.sensors", 0L), (f.Frame.OriginNode, f.Frame.OriginTopic, f.Frame.OriginPartition, f.Frame.OriginPartitionCount, f.Frame.TargetTopic, f.Frame.FirstOriginOffset));
        Assert.Equal((0L, 30L), (f.LocalStart, f.LocalEnd));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => "v" + i), f.Frame.Records.Select(Value));
        Assert.Equal("k7", Encoding.UTF8.GetString(f.Frame.Records[7].Key!.Value.Span));
        Assert.Equal(1_700_000_000_007, f.Frame.Records[7].Timestamp);
    }

    [Fact]
    public void Build_FromMiddleOfBatch_SkipsEarlierRecords()
    {
        var frames = new List<BuiltFrame>();
        var next = UplinkFrameBuilder.Build(Concat(Batch(0, 10), Batch(10, 5)), 7, Own, 1 << 20, frames);

        var f = Assert.Single(frames);
        Assert.Equal(15, next);
        Assert.Equal(7, f.Frame.FirstOriginOffset);
        Assert.Equal(Enumerable.Range(7, 8).Select(i => "v" + i), f.Frame.Records.Select(Value));
    }

    [Fact]
    public void Build_ControlBatchBetween_SkippedAndFrameSplitAtTheGap()
    {
        var frames = new List<BuiltFrame>();
        var next = UplinkFrameBuilder.Build(Concat(Batch(0, 5), ControlBatch(5), Batch(6, 4)), 0, Own, 1 << 20, frames);

        Assert.Equal(10, next);
        Assert.Equal(2, frames.Count);
        Assert.Equal((0L, 5L, 0L), (frames[0].LocalStart, frames[0].LocalEnd, frames[0].Frame.FirstOriginOffset));
        Assert.Equal((6L, 10L, 6L), (frames[1].LocalStart, frames[1].LocalEnd, frames[1].Frame.FirstOriginOffset));
        Assert.Equal(9, frames.Sum(f => f.Frame.Records.Count));
    }

    [Fact]
    public void Build_OffsetGap_SplitsSoEveryFrameIsContiguous()
    {
        var frames = new List<BuiltFrame>();
        UplinkFrameBuilder.Build(Concat(Batch(0, 10), Batch(15, 5)), 0, Own, 1 << 20, frames);

        Assert.Equal(2, frames.Count);
        Assert.Equal((0L, 9L), (frames[0].Frame.FirstOriginOffset, frames[0].Frame.LastOriginOffset));
        Assert.Equal((15L, 19L), (frames[1].Frame.FirstOriginOffset, frames[1].Frame.LastOriginOffset));
    }

    [Fact]
    public void Build_SizeTarget_SplitsInsideABatchAndKeepsEveryRecord()
    {
        var frames = new List<BuiltFrame>();
        var next = UplinkFrameBuilder.Build(Batch(0, 100, valueBytes: 1000), 0, Own, 10_000, frames);

        Assert.Equal(100, next);
        Assert.True(frames.Count >= 10, $"{frames.Count} frames");
        Assert.All(frames, f => Assert.True(f.EstimatedBytes <= 10_000));
        long expected = 0;
        foreach (var f in frames)
        {
            Assert.Equal(expected, f.LocalStart);
            Assert.Equal(expected, f.Frame.FirstOriginOffset);
            expected = f.LocalEnd;
        }
        Assert.Equal(100, expected);
    }

    [Fact]
    public void Build_SingleRecordLargerThanTarget_GetsItsOwnFrame()
    {
        var frames = new List<BuiltFrame>();
        UplinkFrameBuilder.Build(Batch(0, 3, valueBytes: 5000), 0, Own, 1024, frames);

        Assert.Equal(3, frames.Count);
        Assert.All(frames, f => Assert.Single(f.Frame.Records));
    }

    private static IReadOnlyList<RecordHeader> Origin(string node, string topic, int partition, long offset, params RecordHeader[] user) =>
    [
        .. user,
        new(OriginHeaders.Node, Utf8(node)),
        new(OriginHeaders.Topic, Utf8(topic)),
        new(OriginHeaders.Partition, Utf8(partition.ToString())),
        new(OriginHeaders.Offset, Utf8(offset.ToString())),
    ];

    [Fact]
    public void Build_Relay_OriginFromHeaders_SplitWhereTheOriginStreamChanges_HeadersStripped()
    {
        var relay = Own with { NodeId = "gw-1", RelayOrigins = true };
        var user = new RecordHeader("site", Utf8("plant-7"));
        // Local offsets 0..5: edge-a 100,101, edge-b 7, edge-a 102, edge-a 104 (a gap), own record.
        var batch = Concat(
            Batch(0, 2, i => Origin("edge-a", "t", 1, 100 + i, user)),
            Batch(2, 1, _ => Origin("edge-b", "t", 0, 7)),
            Batch(3, 1, _ => Origin("edge-a", "t", 1, 102)),
            Batch(4, 1, _ => Origin("edge-a", "t", 1, 104)),
            Batch(5, 1));
        var frames = new List<BuiltFrame>();
        UplinkFrameBuilder.Build(batch, 0, relay, 1 << 20, frames);

        Assert.Equal(
            [("edge-a", "t", 1, 100L, 2), ("edge-b", "t", 0, 7L, 1), ("edge-a", "t", 1, 102L, 1), ("edge-a", "t", 1, 104L, 1), ("gw-1", "sensors", 2, 5L, 1)],
            frames.Select(f => (f.Frame.OriginNode, f.Frame.OriginTopic, f.Frame.OriginPartition, f.Frame.FirstOriginOffset, f.Frame.Records.Count)));
        Assert.Equal([(0L, 2L), (2L, 3L), (3L, 4L), (4L, 5L), (5L, 6L)], frames.Select(f => (f.LocalStart, f.LocalEnd)));
        var first = frames[0].Frame.Records[0];
        Assert.Equal([("site", "plant-7")], first.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.Value!.Value.Span))));
        Assert.All(frames.SelectMany(f => f.Frame.Records), r => Assert.DoesNotContain(r.Headers, h => OriginHeaders.IsOriginHeader(h.Key)));
    }

    [Fact]
    public void Build_Edge_OriginHeadersAreUserData_KeptAndIgnored()
    {
        var frames = new List<BuiltFrame>();
        UplinkFrameBuilder.Build(Batch(0, 1, _ => Origin("someone-else", "x", 0, 5)), 0, Own, 1 << 20, frames);

        var f = Assert.Single(frames);
        Assert.Equal(("edge-1", 0L), (f.Frame.OriginNode, f.Frame.FirstOriginOffset));
        Assert.Equal(4, f.Frame.Records[0].Headers.Count);
    }

    [Fact]
    public void TryReadOrigin_MalformedOrPartial_False()
    {
        Assert.False(UplinkFrameBuilder.TryReadOrigin([new(OriginHeaders.Node, Utf8("a"))], out _, out _, out _, out _));
        Assert.False(UplinkFrameBuilder.TryReadOrigin(Origin("a", "t", 0, 1).Select(h => h.Key == OriginHeaders.Offset ? h with { Value = Utf8("1x") } : h).ToList(), out _, out _, out _, out _));
        Assert.True(UplinkFrameBuilder.TryReadOrigin(Origin("a", "t", 3, 42), out var n, out var t, out var p, out var o));
        Assert.Equal(("a", "t", 3, 42L), (n, t, p, o));
    }

    [Fact]
    public void Build_FramesRoundTripThroughTheCodec()
    {
        var frames = new List<BuiltFrame>();
        UplinkFrameBuilder.Build(Batch(0, 50, i => [new RecordHeader("i", Utf8(i.ToString()))]), 0, Own, 1 << 20, frames);
        var payload = UplinkFrameCodec.Encode(frames[0].Frame, out var raw);
        var decoded = UplinkFrameCodec.Decode(payload, raw);

        Assert.Equal(50, decoded.Records.Count);
        Assert.Equal("v49", Value(decoded.Records[49]));
        Assert.Equal("49", Encoding.UTF8.GetString(decoded.Records[49].Headers[0].Value!.Value.Span));
    }
}

public sealed class SenderPolicyTests
{
    [Fact]
    public void AdaptiveFrameSize_LowLatency_GrowsToMaxThenStays()
    {
        var size = new AdaptiveFrameSize(64 * 1024, 4 * 1024 * 1024);
        Assert.Equal(64 * 1024, size.Target);
        for (var i = 0; i < 200 && size.Target < 4 * 1024 * 1024; i++) size.OnAck(TimeSpan.FromMilliseconds(2), 0);
        Assert.Equal(4 * 1024 * 1024, size.Target);
        size.OnAck(TimeSpan.FromMilliseconds(2), 0);
        Assert.Equal(4 * 1024 * 1024, size.Target);
    }

    [Fact]
    public void AdaptiveFrameSize_LatencyFarAboveBest_HalvesOnceThenHoldsForTheWindow()
    {
        var size = new AdaptiveFrameSize(64 * 1024, 4 * 1024 * 1024);
        for (var i = 0; i < 20; i++) size.OnAck(TimeSpan.FromMilliseconds(20), 0);
        var grown = size.Target;
        Assert.True(grown > 64 * 1024);

        size.OnAck(TimeSpan.FromMilliseconds(500), inFlightAfter: 3);
        Assert.Equal(grown / 2, size.Target);
        // The three frames already in flight were sized before the cut: they do not cut again.
        for (var i = 0; i < 3; i++) size.OnAck(TimeSpan.FromMilliseconds(500), 3);
        Assert.Equal(grown / 2, size.Target);
        size.OnAck(TimeSpan.FromMilliseconds(500), 0);
        Assert.Equal(grown / 4, size.Target);
        for (var i = 0; i < 50; i++) size.OnAck(TimeSpan.FromMilliseconds(5000), 0);
        Assert.Equal(64 * 1024, size.Target);
    }

    [Fact]
    public void TokenBucket_CapsLongRunRate_AndLetsALargeFrameBorrow()
    {
        var bucket = new TokenBucket(1000, 500, now: 0);
        Assert.Equal(TimeSpan.Zero, bucket.Take(1000, 0)); // one second's burst
        Assert.Equal(TimeSpan.FromSeconds(0.5), bucket.Take(500, 0));
        Assert.Equal(-500, bucket.Available(0), 3);
        Assert.Equal(0, bucket.Available(0.5), 3);
        // 10 s of 100-byte frames at 1000 B/s: the waits add up to the rate.
        double now = 0.5, waited = 0;
        for (var i = 0; i < 100; i++)
        {
            var wait = bucket.Take(100, now).TotalSeconds;
            waited += wait;
            now += wait;
        }
        Assert.Equal(10, now - 0.5, 2);
        Assert.True(waited > 9.9);
    }

    private sealed record Item(string Name, int Priority, bool Ready);

    [Fact]
    public void PriorityScheduler_HigherPriorityFirst_RoundRobinAmongEquals()
    {
        var scheduler = new PriorityScheduler<Item>();
        var items = new List<Item> { new("a", 0, true), new("b", 5, true), new("c", 0, true), new("d", 5, true), new("e", 9, false) };
        var picks = new List<string>();
        for (var i = 0; i < 4; i++) picks.Add(scheduler.Pick(items, x => x.Priority, x => x.Ready)!.Name);
        Assert.Equal(["b", "d", "b", "d"], picks);

        items[1] = items[1] with { Ready = false };
        items[3] = items[3] with { Ready = false };
        picks.Clear();
        for (var i = 0; i < 4; i++) picks.Add(scheduler.Pick(items, x => x.Priority, x => x.Ready)!.Name);
        Assert.Equal(["a", "c", "a", "c"], picks);

        items[4] = items[4] with { Ready = true };
        Assert.Equal("e", scheduler.Pick(items, x => x.Priority, x => x.Ready)!.Name);
        Assert.Null(scheduler.Pick(items.Select(x => x with { Ready = false }).ToList(), x => x.Priority, x => x.Ready));
    }

    [Fact]
    public void ParentSelector_FailsOverInOrderAfterThreeFailures_Cycles()
    {
        var selector = new ParentSelector(3, 3, TimeSpan.FromSeconds(60), now: 0);
        var order = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            order.Add(selector.Current);
            selector.OnFailure(i);
        }
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0], order);
    }

    [Fact]
    public void ParentSelector_ConnectedResetsCount_ProbeOfPreferredReturnsToFallbackOnFailure()
    {
        var selector = new ParentSelector(2, 3, TimeSpan.FromSeconds(60), now: 0);
        selector.OnFailure(0);
        selector.OnFailure(0);
        selector.OnConnected(1);
        selector.OnFailure(2);
        Assert.Equal(0, selector.Current); // the count started over
        selector.OnFailure(3);
        selector.OnFailure(4);
        Assert.Equal(1, selector.Current);

        selector.OnConnected(5);
        Assert.False(selector.ShouldProbePreferred(30));
        Assert.True(selector.ShouldProbePreferred(65));
        selector.BeginProbe(65);
        Assert.Equal(0, selector.Current);
        Assert.True(selector.IsProbing);
        selector.OnFailure(66); // one failed probe is enough to go back
        Assert.Equal(1, selector.Current);
        Assert.False(selector.ShouldProbePreferred(100));
        Assert.True(selector.ShouldProbePreferred(127));

        selector.BeginProbe(127);
        selector.OnConnected(128);
        Assert.False(selector.IsProbing);
        Assert.Equal(0, selector.Current);
        Assert.False(selector.ShouldProbePreferred(1000));
    }

    [Fact]
    public void ParentSelector_ParentDown_MovesOnAtOnceOnlyForTheCurrentParent()
    {
        IParentSelector selector = new ParentSelector(3, 3, TimeSpan.FromSeconds(60), now: 0);
        Assert.False(selector.OnParentDown(2, 1)); // not the current one: nothing changes
        Assert.Equal(0, selector.Current);
        selector.OnFailure(2);
        Assert.True(selector.OnParentDown(0, 3)); // no need to wait for three failures
        Assert.Equal(1, selector.Current);
        Assert.Equal(0, selector.ConsecutiveFailures);

        Assert.True(selector.ShouldProbePreferred(63));
        selector.BeginProbe(63);
        Assert.True(selector.OnParentDown(0, 64)); // the preferred is down: back to the fallback
        Assert.Equal(1, selector.Current);

        var single = new ParentSelector(1, 3, TimeSpan.FromSeconds(60), now: 0);
        Assert.False(single.OnParentDown(0, 1)); // nowhere else to go
    }

    [Fact]
    public void TopicRules_GlobsInternalTopicsRenameAndPrefix()
    {
        var rules = new UplinkTopicRules(["sensors.*", "log?"], "site7.", [new("sensors.raw", "raw-all")]);
        Assert.True(rules.Includes("sensors.temp"));
        Assert.True(rules.Includes("logs"));
        Assert.False(rules.Includes("logs2"));
        Assert.False(rules.Includes("other"));
        Assert.Equal("site7.sensors.temp", rules.TargetOf("sensors.temp"));
        Assert.Equal("raw-all", rules.TargetOf("sensors.raw"));

        Assert.True(UplinkTopicRules.All.Includes("anything"));
        Assert.False(UplinkTopicRules.All.Includes("__consumer_offsets"));
        Assert.Equal("anything", UplinkTopicRules.All.TargetOf("anything"));
        Assert.True(UplinkTopicRules.GlobMatch("*a*b*", "xxaxxbxx"));
        Assert.False(UplinkTopicRules.GlobMatch("*a*b", "xxaxxbxxc"));
        Assert.True(UplinkTopicRules.GlobMatch("*", ""));
    }
}
