using System.Buffers;
using EdgeStream.Records;
using EdgeStream.Uplink.Protocol;
using K4os.Compression.LZ4;
using MessagePack;

namespace EdgeStream.Uplink.Tests;

/// <summary>The frame codec on its own: round trips and every limit, checked before allocation.</summary>
public sealed class UplinkFrameCodecTests
{
    [Fact]
    public void EncodeDecode_RoundTrip_EveryFieldByteForByte()
    {
        var frame = Frames.Make("edge-1", "sensors", first: 42, count: 50, target: "site.sensors", originPartition: 2, originPartitionCount: 3);
        var records = frame.Records.ToList();
        records[3] = new UplinkRecord(-1, null, null, []);
        records[4] = new UplinkRecord(7, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, [new RecordHeader("", ReadOnlyMemory<byte>.Empty)]);
        frame = new UplinkFrame
        {
            OriginNode = frame.OriginNode, OriginTopic = frame.OriginTopic, OriginPartition = frame.OriginPartition,
            OriginPartitionCount = frame.OriginPartitionCount, TargetTopic = frame.TargetTopic, FirstOriginOffset = frame.FirstOriginOffset,
            Records = records,
        };

        var payload = UplinkFrameCodec.Encode(frame, out var rawLength);
        var decoded = UplinkFrameCodec.Decode(payload, rawLength);

        Assert.Equal("edge-1", decoded.OriginNode);
        Assert.Equal("sensors", decoded.OriginTopic);
        Assert.Equal(2, decoded.OriginPartition);
        Assert.Equal(3, decoded.OriginPartitionCount);
        Assert.Equal("site.sensors", decoded.TargetTopic);
        Assert.Equal(42, decoded.FirstOriginOffset);
        Assert.Equal(91, decoded.LastOriginOffset);
        Assert.Equal(50, decoded.Records.Count);
        for (var i = 0; i < 50; i++)
        {
            var a = frame.Records[i];
            var b = decoded.Records[i];
            Assert.Equal(a.Timestamp, b.Timestamp);
            Assert.Equal(a.Key?.ToArray(), b.Key?.ToArray());
            Assert.Equal(a.Value?.ToArray(), b.Value?.ToArray());
            Assert.Equal(a.Headers.Count, b.Headers.Count);
            for (var h = 0; h < a.Headers.Count; h++)
            {
                Assert.Equal(a.Headers[h].Key, b.Headers[h].Key);
                Assert.Equal(a.Headers[h].Value?.ToArray(), b.Headers[h].Value?.ToArray());
            }
        }
        Assert.Null(decoded.Records[3].Key);
        Assert.NotNull(decoded.Records[4].Key);
        Assert.Equal(0, decoded.Records[4].Key!.Value.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1025)]
    public void Decode_RawLengthOutsideLimit_RefusedBeforeDecompressing(int rawLength)
    {
        var limits = new UplinkFrameLimits { MaxFrameBytes = 1024 };
        var ex = Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.Decode(new byte[10], rawLength, limits));
        Assert.Contains("outside 1..1024", ex.Message);
    }

    [Fact]
    public void Decode_RawLengthLargerOrSmallerThanPayload_Refused()
    {
        var payload = UplinkFrameCodec.Encode(Frames.Make("e", "t", 0, 5), out var rawLength);
        Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.Decode(payload, rawLength + 1));
        Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.Decode(payload, rawLength - 1));
    }

    [Fact]
    public void Decode_RandomBytes_NeverAnythingButInvalidFrame()
    {
        var random = new Random(1234);
        for (var i = 0; i < 2000; i++)
        {
            var payload = new byte[random.Next(0, 200)];
            random.NextBytes(payload);
            try
            {
                UplinkFrameCodec.Decode(payload, random.Next(1, 4096));
            }
            catch (InvalidUplinkFrameException)
            {
            }
        }
    }

    [Fact]
    public void DecodeRaw_MutatedValidFrames_NeverAnythingButInvalidFrame()
    {
        var raw = Raw(Frames.Make("edge-1", "t", 0, 20));
        var random = new Random(99);
        for (var i = 0; i < 3000; i++)
        {
            var copy = raw.ToArray();
            for (var m = 0; m < 1 + random.Next(4); m++) copy[random.Next(copy.Length)] = (byte)random.Next(256);
            var cut = random.Next(2) == 0 ? copy.Length : random.Next(copy.Length);
            try
            {
                UplinkFrameCodec.DecodeRaw(copy.AsMemory(0, cut));
            }
            catch (InvalidUplinkFrameException)
            {
            }
        }
    }

    [Fact]
    public void DecodeRaw_TooManyRecords_Refused()
    {
        var raw = Raw(Frames.Make("edge-1", "t", 0, 11));
        var ex = Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.DecodeRaw(raw, new UplinkFrameLimits { MaxRecords = 10 }));
        Assert.Contains("record count", ex.Message);
    }

    [Fact]
    public void DecodeRaw_TooManyHeaders_Refused()
    {
        var raw = Raw(Frames.Make("edge-1", "t", 0, 1)); // two headers per record
        var ex = Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.DecodeRaw(raw, new UplinkFrameLimits { MaxHeaders = 1 }));
        Assert.Contains("header list", ex.Message);
    }

    [Fact]
    public void DecodeRaw_HugeDeclaredRecordCount_RefusedWithoutAllocatingIt()
    {
        // [1, "e", "t", 0, 1, "t", 0, array32(1_000_000) ] with no records behind it.
        var w = new ArrayBufferWriter<byte>();
        var mp = new MessagePackWriter(w);
        mp.WriteArrayHeader(8);
        mp.Write(1); mp.Write("e"); mp.Write("t"); mp.Write(0); mp.Write(1); mp.Write("t"); mp.Write(0L);
        mp.WriteArrayHeader(1_000_000);
        mp.Flush();
        Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.DecodeRaw(w.WrittenMemory));
    }

    [Theory]
    [InlineData(2, 1, 0L)]   // version
    [InlineData(1, -1, 0L)]  // partition
    [InlineData(1, 0, -5L)]  // first offset
    public void DecodeRaw_BadHeaderFields_Refused(int version, int partition, long first)
    {
        var w = new ArrayBufferWriter<byte>();
        var mp = new MessagePackWriter(w);
        mp.WriteArrayHeader(8);
        mp.Write(version); mp.Write("e"); mp.Write("t"); mp.Write(partition); mp.Write(1); mp.Write("t"); mp.Write(first);
        mp.WriteArrayHeader(1);
        mp.WriteArrayHeader(4); mp.Write(0L); mp.WriteNil(); mp.WriteNil(); mp.WriteArrayHeader(0);
        mp.Flush();
        Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.DecodeRaw(w.WrittenMemory));
    }

    [Fact]
    public void DecodeRaw_TrailingBytes_Refused()
    {
        var raw = Raw(Frames.Make("edge-1", "t", 0, 2)).Concat(new byte[] { 0xC0 }).ToArray();
        var ex = Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.DecodeRaw(raw));
        Assert.Contains("trailing", ex.Message);
    }

    [Fact]
    public void Decode_Lz4BombClaimingSmallLength_RefusedWithoutInflating()
    {
        var zeros = new byte[4 * 1024 * 1024];
        var target = new byte[LZ4Codec.MaximumOutputSize(zeros.Length)];
        var n = LZ4Codec.Encode(zeros, target);
        Assert.Throws<InvalidUplinkFrameException>(() => UplinkFrameCodec.Decode(target.AsSpan(0, n), 1000));
    }

    private static byte[] Raw(UplinkFrame frame)
    {
        var w = new ArrayBufferWriter<byte>();
        UplinkFrameCodec.WriteRaw(w, frame);
        return w.WrittenSpan.ToArray();
    }
}
