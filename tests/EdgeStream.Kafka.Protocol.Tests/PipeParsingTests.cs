using System.Buffers;
using System.IO.Pipelines;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Protocol.Tests;

/// <summary>Every request, framed, fed through an in-memory pipe whole and in 1/7/100-byte chunks.</summary>
public class PipeParsingTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    public async Task ParseRequests_FedInChunks_SameResultAsWhole(int chunkSize)
    {
        var corpus = RequestCorpus.All;
        var stream = corpus.SelectMany(c => c.Frame).ToArray();
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0));

        var writer = Task.Run(async () =>
        {
            var step = chunkSize == 0 ? stream.Length : chunkSize;
            for (var offset = 0; offset < stream.Length; offset += step)
            {
                await pipe.Writer.WriteAsync(stream.AsMemory(offset, Math.Min(step, stream.Length - offset)));
            }
            await pipe.Writer.CompleteAsync();
        });

        var parsed = new List<(RequestHeader Header, byte[] Body)>();
        while (true)
        {
            var result = await pipe.Reader.ReadAsync();
            var buffer = result.Buffer;
            try
            {
                while (KafkaFraming.TryReadFrame(ref buffer, KafkaFraming.DefaultMaxFrameSize, out var frame))
                {
                    var request = KafkaFraming.ParseRequest(frame);
                    parsed.Add((request.Header, request.Body.ToArray(request.Header.ApiVersion)));
                }
            }
            finally
            {
                // Kestrel's pattern: consumed up to the last whole frame, examined everything.
                pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            }
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, "trailing partial frame");
                break;
            }
        }
        await writer;
        await pipe.Reader.CompleteAsync();

        Assert.Equal(corpus.Count, parsed.Count);
        for (var i = 0; i < corpus.Count; i++)
        {
            Assert.Equal((short)corpus[i].Key, parsed[i].Header.ApiKey);
            Assert.Equal(corpus[i].Version, parsed[i].Header.ApiVersion);
            Assert.Equal("edge-test", parsed[i].Header.ClientId);
            Assert.True(corpus[i].Body.AsSpan().SequenceEqual(parsed[i].Body), $"{corpus[i].Key} v{corpus[i].Version} body differs");
        }
    }

    [Fact]
    public void ParseRequest_EveryByteInOwnSegment_SameBody()
    {
        foreach (var (key, version, frame, body) in RequestCorpus.All)
        {
            // One segment per byte: every primitive read crosses a segment boundary.
            var first = new Segment([frame[0]]);
            var last = first;
            for (var i = 1; i < frame.Length; i++) last = last.Append([frame[i]]);
            var buffer = new ReadOnlySequence<byte>(first, 0, last, 1);
            Assert.True(KafkaFraming.TryReadFrame(ref buffer, KafkaFraming.DefaultMaxFrameSize, out var payload));
            var request = KafkaFraming.ParseRequest(payload);
            Assert.True(body.AsSpan().SequenceEqual(request.Body.ToArray(version)), $"{key} v{version} body differs");
        }
    }

    [Fact]
    public void TryReadFrame_Incomplete_ReturnsFalseAndKeepsBuffer()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 10, 1, 2, 3 });
        Assert.False(KafkaFraming.TryReadFrame(ref buffer, 100, out _));
        Assert.Equal(7, buffer.Length);
        var shortPrefix = new ReadOnlySequence<byte>(new byte[] { 0, 0 });
        Assert.False(KafkaFraming.TryReadFrame(ref shortPrefix, 100, out _));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x00 })]
    [InlineData(new byte[] { 0x00, 0x10, 0x00, 0x01 })]
    public void TryReadFrame_NegativeOrOversizedSize_Throws(byte[] prefix)
    {
        var buffer = new ReadOnlySequence<byte>(prefix);
        Assert.Throws<KafkaProtocolException>(() => KafkaFraming.TryReadFrame(ref buffer, 1024 * 1024, out _));
    }

    [Fact]
    public void TryReadFrame_SizeSplitAcrossSegments_Reads()
    {
        var first = new Segment(new byte[] { 0, 0 });
        var last = first.Append(new byte[] { 0, 2, 0xAB, 0xCD, 0xEF });
        var buffer = new ReadOnlySequence<byte>(first, 0, last, 5);
        Assert.True(KafkaFraming.TryReadFrame(ref buffer, 100, out var frame));
        Assert.Equal(new byte[] { 0xAB, 0xCD }, frame.ToArray());
        Assert.Equal(1, buffer.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data) => Memory = data;

        public Segment Append(byte[] data)
        {
            var next = new Segment(data) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
