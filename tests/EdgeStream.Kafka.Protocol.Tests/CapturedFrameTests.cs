using System.Buffers;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Protocol.Tests;

/// <summary>
/// Request frames recorded from real clients (librdkafka 2.16 through Confluent.Kafka, kafka-python 2.0)
/// by the recording proxy in EdgeStream.Kafka.Clients.Tests. Each is a whole frame, size prefix
/// included, named <c>{client}-{api}-v{version}.bin</c>.
/// </summary>
public class CapturedFrameTests
{
    private static readonly string s_dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "captured");

    public static TheoryData<string> CapturedFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(s_dir, "*.bin").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void CapturedFiles_EachClientAndApi_Present()
    {
        var names = Directory.GetFiles(s_dir, "*.bin").Select(Path.GetFileName).ToList();
        foreach (var client in new[] { "librdkafka-2.16", "kafka-python-2.0" })
        foreach (var api in new[] { "apiversions", "metadata", "produce" })
            Assert.Contains(names, n => n!.StartsWith($"{client}-{api}-v", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(CapturedFiles))]
    public void ParseRequest_CapturedFrame_ReencodesByteIdentical(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(s_dir, file));
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(KafkaFraming.TryReadFrame(ref buffer, KafkaFraming.DefaultMaxFrameSize, out var frame));
        Assert.True(buffer.IsEmpty, $"{file}: {buffer.Length} bytes after the frame");

        var request = KafkaFraming.ParseRequest(frame);
        var api = ((ApiKey)request.Header.ApiKey).ToString().ToLowerInvariant();
        Assert.EndsWith($"-{api}-v{request.Header.ApiVersion}.bin", file, StringComparison.Ordinal);

        var output = new ArrayBufferWriter<byte>();
        KafkaFraming.WriteRequest(output, request.Header, request.Body);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(output.WrittenSpan));

        // The same frame fed in pieces of 1, 7 and 100 bytes parses to the same request.
        foreach (var chunk in new[] { 1, 7, 100 })
        {
            var split = Chunked(bytes, chunk);
            Assert.True(KafkaFraming.TryReadFrame(ref split, KafkaFraming.DefaultMaxFrameSize, out var pieces));
            var again = new ArrayBufferWriter<byte>();
            var parsed = KafkaFraming.ParseRequest(pieces);
            KafkaFraming.WriteRequest(again, parsed.Header, parsed.Body);
            Assert.True(bytes.AsSpan().SequenceEqual(again.WrittenSpan), $"{file} in {chunk}-byte pieces");
        }
    }

    [Fact]
    public void ParseRequest_CapturedProduce_RecordsKeptAsSent()
    {
        foreach (var path in Directory.GetFiles(s_dir, "*-produce-v*.bin"))
        {
            var bytes = File.ReadAllBytes(path);
            var request = KafkaFraming.ParseRequest(new ReadOnlySequence<byte>(bytes.AsMemory(4)));
            var produce = Assert.IsType<ProduceRequest>(request.Body);
            var partition = Assert.Single(Assert.Single(produce.TopicData).PartitionData);
            var records = partition.Records!.Value.ToArray();
            // Both clients produced key "key", value "captured value", header h=v into captured/0.
            Assert.Equal("captured", produce.TopicData[0].Name);
            Assert.True(bytes.AsSpan().IndexOf(records) > 0, $"{Path.GetFileName(path)}: records are not the bytes on the wire");
            Assert.True(records.AsSpan().IndexOf("captured value"u8) > 0, $"{Path.GetFileName(path)}: value not in the batch");
        }
    }

    private static ReadOnlySequence<byte> Chunked(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var at = 0; at < bytes.Length; at += size)
        {
            var memory = bytes.AsMemory(at, Math.Min(size, bytes.Length - at));
            if (first is null) first = last = new Segment(memory, 0);
            else last = last!.Append(memory);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
