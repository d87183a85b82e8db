using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using EdgeStream.Records;

namespace EdgeStream.Kafka.Protocol.Tests;

/// <summary>
/// Hostile input: decoding either succeeds or throws one of the codec's typed exceptions. Anything else
/// (IndexOutOfRange, ArgumentOutOfRange, OutOfMemory, overflow...) is a bug. Fixed seed, so failures replay.
/// </summary>
public class FuzzTests
{
    private const int Iterations = 100_000;
    private const int MaxFrame = 1 << 20;

    [Fact]
    public void ParseRequest_HostileFrames_OnlyTypedExceptions()
    {
        var rng = new Random(20240611);
        var corpus = RequestCorpus.All;
        var failures = new List<string>();
        int parsed = 0, rejected = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var strategy = rng.Next(6);
            byte[] input = strategy switch
            {
                0 => RandomFrame(rng),
                1 => Mutate(rng, corpus[rng.Next(corpus.Count)].Frame),
                2 => Truncate(rng, corpus[rng.Next(corpus.Count)].Frame),
                3 => HugeLength(rng, corpus[rng.Next(corpus.Count)].Frame),
                4 => UnknownApi(rng, corpus[rng.Next(corpus.Count)].Frame),
                _ => HostileSizePrefix(rng, corpus[rng.Next(corpus.Count)].Frame),
            };
            try
            {
                var buffer = new ReadOnlySequence<byte>(input);
                while (KafkaFraming.TryReadFrame(ref buffer, MaxFrame, out var frame))
                {
                    KafkaFraming.ParseRequest(frame);
                    parsed++;
                }
            }
            catch (Exception ex) when (ex is KafkaProtocolException or CorruptRecordException)
            {
                rejected++;
            }
            catch (Exception ex)
            {
                if (failures.Count < 10) failures.Add($"#{i} strategy {strategy}: {ex.GetType().Name}: {ex.Message}\n{Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 96)))}\n{ex.StackTrace}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
        Assert.True(parsed > 0 && rejected > 0, $"parsed {parsed}, rejected {rejected}");
        // Bounded memory: hostile lengths must never have made the parser allocate what they claimed.
        var live = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(live < 256L * 1024 * 1024, $"{live} bytes still live after the fuzz run");
    }

    [Fact]
    public void ReadRecords_HostileBatches_OnlyTypedExceptions()
    {
        var rng = new Random(7331);
        var batches = new List<byte[]>();
        foreach (var codec in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
        {
            var builder = new RecordBatchBuilder();
            for (var r = 0; r < 20; r++)
                builder.Add(Encoding.UTF8.GetBytes($"k{r}"), Encoding.UTF8.GetBytes(new string('v', r * 3)), 1000 + r,
                    [new RecordHeader("h", new byte[] { 1 })]);
            batches.Add(builder.Build(codec));
        }
        var failures = new List<string>();
        for (var i = 0; i < 20_000; i++)
        {
            var source = batches[rng.Next(batches.Count)];
            var input = rng.Next(3) switch
            {
                0 => Mutate(rng, source),
                1 => source[..rng.Next(source.Length)],
                _ => HugeLength(rng, source),
            };
            try
            {
                RecordBatchReader.ReadRecords(input, maxDecompressedBytes: 1 << 20);
            }
            catch (Exception ex) when (ex is KafkaProtocolException or CorruptRecordException)
            {
            }
            catch (Exception ex)
            {
                if (failures.Count < 10) failures.Add($"#{i}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static byte[] RandomFrame(Random rng)
    {
        var body = new byte[rng.Next(0, 80)];
        rng.NextBytes(body);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, rng.Next(4) == 0 ? rng.Next() - (int.MaxValue / 2) : body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    private static byte[] Mutate(Random rng, byte[] source)
    {
        var copy = (byte[])source.Clone();
        var flips = rng.Next(1, 5);
        for (var f = 0; f < flips; f++)
        {
            var pos = copy.Length > 4 ? rng.Next(4, copy.Length) : rng.Next(copy.Length);
            copy[pos] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => 0xFF, _ => (byte)(copy[pos] ^ (1 << rng.Next(8))) };
        }
        return copy;
    }

    /// <summary>Cuts the body short but keeps the size prefix consistent, so the parser sees a whole, truncated frame.</summary>
    private static byte[] Truncate(Random rng, byte[] source)
    {
        var length = rng.Next(4, source.Length);
        var copy = source[..length];
        BinaryPrimitives.WriteInt32BigEndian(copy, length - 4);
        return copy;
    }

    /// <summary>Overwrites four bytes somewhere with a huge, negative or overlong-varint length.</summary>
    private static byte[] HugeLength(Random rng, byte[] source)
    {
        var copy = (byte[])source.Clone();
        if (copy.Length < 9) return copy;
        var pos = rng.Next(4, copy.Length - 4);
        byte[] pattern = rng.Next(5) switch
        {
            0 => [0xFF, 0xFF, 0xFF, 0xFF],
            1 => [0x7F, 0xFF, 0xFF, 0xFF],
            2 => [0x80, 0x00, 0x00, 0x00],
            3 => [0xFF, 0xFF, 0xFF, 0x0F],
            _ => [0xFE, 0xFF, 0x7F, 0x00],
        };
        pattern.CopyTo(copy, pos);
        return copy;
    }

    private static byte[] UnknownApi(Random rng, byte[] source)
    {
        var copy = (byte[])source.Clone();
        BinaryPrimitives.WriteInt16BigEndian(copy.AsSpan(4), (short)rng.Next(short.MinValue, short.MaxValue));
        BinaryPrimitives.WriteInt16BigEndian(copy.AsSpan(6), (short)rng.Next(-3, 40));
        return copy;
    }

    private static byte[] HostileSizePrefix(Random rng, byte[] source)
    {
        var copy = (byte[])source.Clone();
        BinaryPrimitives.WriteInt32BigEndian(copy, rng.Next(3) switch { 0 => -rng.Next(1, int.MaxValue), 1 => MaxFrame + rng.Next(1, 1000), _ => copy.Length - 4 + rng.Next(-3, 4) });
        return copy;
    }
}

/// <summary>Every generated message type (requests, responses, data structs) read from mutated valid bytes.</summary>
public class MessageFuzzTests
{
    [Fact]
    public void Read_MutatedMessages_OnlyTypedExceptions()
    {
        var samples = new List<(Type Type, short Version, byte[] Bytes)>();
        foreach (var type in MessageFiller.AllMessageTypes)
            for (var v = MessageFiller.Lowest(type); v <= MessageFiller.Highest(type); v++)
                samples.Add((type, v, MessageFiller.Create(type, v).ToArray(v)));

        var rng = new Random(4242);
        var failures = new List<string>();
        for (var i = 0; i < 100_000; i++)
        {
            var (type, version, bytes) = samples[rng.Next(samples.Count)];
            var input = (byte[])bytes.Clone();
            if (input.Length == 0) continue;
            switch (rng.Next(3))
            {
                case 0:
                    for (var f = rng.Next(1, 4); f > 0; f--) input[rng.Next(input.Length)] = (byte)rng.Next(256);
                    break;
                case 1:
                    input = input[..rng.Next(input.Length)];
                    break;
                default:
                    var pos = rng.Next(input.Length);
                    input[pos] = 0xFF;
                    if (pos + 1 < input.Length) input[pos + 1] = 0xFF;
                    break;
            }
            try
            {
                var reader = new KafkaReader(new ReadOnlySequence<byte>(input));
                var message = (IKafkaMessage)Activator.CreateInstance(type)!;
                message.Read(ref reader, version);
            }
            catch (KafkaProtocolException)
            {
            }
            catch (Exception ex)
            {
                if (failures.Count < 10) failures.Add($"#{i} {type.Name} v{version}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }
}
