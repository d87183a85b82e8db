using System.Buffers.Binary;
using System.Text;
using EdgeStream.Records;
using Snappier;

namespace EdgeStream.Kafka.Protocol.Tests;

public class CompressionTests
{
    public static TheoryData<CompressionType> Codecs() =>
        new() { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd };

    private static RecordBatchBuilder Sample(int count)
    {
        var builder = new RecordBatchBuilder();
        for (var i = 0; i < count; i++)
        {
            var value = Encoding.UTF8.GetBytes($"value-{i}-" + new string('x', i % 300));
            builder.Add(Encoding.UTF8.GetBytes($"key-{i}"), value, 1_700_000_000_000 + i,
                i % 3 == 0 ? [new RecordHeader("h", new byte[] { (byte)i })] : null);
        }
        return builder;
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void BuildThenRead_EachCodec_RecordsRoundTrip(CompressionType codec)
    {
        var batch = Sample(2000).Build(codec);
        Assert.Equal(BatchValidation.Valid, RecordBatchHeader.Validate(batch, out var header));
        Assert.Equal(codec, header.Compression);

        var records = RecordBatchReader.ReadRecords(batch);
        Assert.Equal(2000, records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(i, records[i].Offset);
            Assert.Equal(1_700_000_000_000 + i, records[i].Timestamp);
            Assert.Equal($"key-{i}", Encoding.UTF8.GetString(records[i].Key!.Value.Span));
            Assert.StartsWith($"value-{i}-", Encoding.UTF8.GetString(records[i].Value!.Value.Span));
            Assert.Equal(i % 3 == 0 ? 1 : 0, records[i].Headers.Count);
        }
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Decompress_OverLimit_ThrowsCorruptRecord(CompressionType codec)
    {
        var data = new byte[200_000];
        var compressed = RecordCompression.Compress(codec, data);
        Assert.Equal(data.Length, RecordCompression.Decompress(codec, compressed, data.Length).Length);
        Assert.Throws<CorruptRecordException>(() => RecordCompression.Decompress(codec, compressed, 100_000));
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void ReadRecords_ZipBombOverLimit_ThrowsCorruptRecord(CompressionType codec)
    {
        var batch = Sample(500).Build(codec);
        Assert.Throws<CorruptRecordException>(() => RecordBatchReader.ReadRecords(batch, maxDecompressedBytes: 1000));
    }

    [Fact]
    public void Decompress_HandBuiltXerialFrame_Decodes()
    {
        var part1 = Encoding.ASCII.GetBytes("hello xerial snappy ");
        var part2 = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("block two ", 50)));
        var frame = new List<byte> { 0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1 };
        foreach (var part in new[] { part1, part2 })
        {
            var block = Snappy.CompressToArray(part);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, block.Length);
            frame.AddRange(length);
            frame.AddRange(block);
        }
        var result = RecordCompression.Decompress(CompressionType.Snappy, frame.ToArray(), 1 << 20);
        Assert.Equal(part1.Concat(part2).ToArray(), result);
    }

    [Fact]
    public void Decompress_RawSnappy_Decodes()
    {
        var data = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("raw snappy from a non-Java client ", 20)));
        Assert.Equal(data, RecordCompression.Decompress(CompressionType.Snappy, Snappy.CompressToArray(data), 1 << 20));
    }

    [Fact]
    public void Compress_Snappy_WritesXerialFraming()
    {
        var compressed = RecordCompression.Compress(CompressionType.Snappy, new byte[100_000]);
        Assert.Equal(new byte[] { 0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1 }, compressed[..16]);
    }

    [Fact]
    public void Compress_Lz4_WritesFrameMagic()
    {
        var compressed = RecordCompression.Compress(CompressionType.Lz4, new byte[1000]);
        Assert.Equal(0x184D2204u, BinaryPrimitives.ReadUInt32LittleEndian(compressed));
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Decompress_Garbage_ThrowsCorruptRecord(CompressionType codec)
    {
        var garbage = new byte[64];
        new Random(7).NextBytes(garbage);
        Assert.Throws<CorruptRecordException>(() => RecordCompression.Decompress(codec, garbage, 1 << 20));
    }

    [Fact]
    public void Decompress_XerialBlockLengthLies_ThrowsCorruptRecord()
    {
        var frame = new byte[] { 0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF, 1, 2 };
        Assert.Throws<CorruptRecordException>(() => RecordCompression.Decompress(CompressionType.Snappy, frame, 1 << 20));
    }
}
