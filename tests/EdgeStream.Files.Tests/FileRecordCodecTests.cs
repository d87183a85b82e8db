using System.Security.Cryptography;
using System.Text;
using EdgeStream.Files.Format;
using EdgeStream.Records;

namespace EdgeStream.Files.Tests;

public sealed class FileRecordCodecTests
{
    private const string Id = "0123456789abcdef0123456789abcdef";

    internal static Record Chunk(string path, long size, int index, long offset, byte[] data, byte[]? sha = null, string id = Id, int mode = 0x1A4) => new()
    {
        Key = Encoding.ASCII.GetBytes(id),
        Value = data,
        Headers = FileRecordCodec.ChunkHeaders(path, size, 1_700_000_000_123_456_700, mode, "host-1", index, offset, data.Length, sha ?? SHA256.HashData(data)),
    };

    internal static Record Manifest(string path, long size, int chunks, byte[] sha, string id = Id, int mode = 0x1A4) => new()
    {
        Key = Encoding.ASCII.GetBytes(id),
        Value = Array.Empty<byte>(),
        Headers = FileRecordCodec.ManifestHeaders(path, size, 1_700_000_000_123_456_700, mode, "host-1", chunks, sha),
    };

    [Fact]
    public void TryDecode_ChunkAndManifest_RoundTrip()
    {
        var data = Encoding.ASCII.GetBytes("hello world");
        Assert.True(FileRecordCodec.TryDecode(Chunk("a/b.txt", 100, 3, 40, data), out var chunk, out var error), error);
        Assert.Equal(FileRecordKind.Chunk, chunk!.Kind);
        Assert.Equal((Id, "a/b.txt", 100L, 3, 40L, 11, 0x1A4, "host-1"), (chunk.FileId, chunk.Path, chunk.Size, chunk.Index, chunk.Offset, chunk.Length, chunk.Mode, chunk.Host));
        Assert.Equal(SHA256.HashData(data), chunk.Sha256);
        Assert.Equal(1_700_000_000_123_456_700, chunk.MtimeNs);

        var whole = SHA256.HashData(data);
        Assert.True(FileRecordCodec.TryDecode(Manifest("a/b.txt", 100, 10, whole), out var manifest, out error), error);
        Assert.Equal((FileRecordKind.Manifest, 10), (manifest!.Kind, manifest.Chunks));
        Assert.Equal(whole, manifest.Sha256);
    }

    [Fact]
    public void ChunkHeaders_AreText_ModeOctal()
    {
        var r = Chunk("x", 10, 0, 0, [1, 2]);
        Assert.Equal("0644", FileRecordCodec.Header(r, FileRecordCodec.ModeHeader));
        Assert.Equal("chunk", FileRecordCodec.Header(r, FileRecordCodec.KindHeader));
        Assert.Equal(64, FileRecordCodec.Header(r, FileRecordCodec.Sha256Header)!.Length);
    }

    public static TheoryData<string> HostileRecords => new() { "no-key", "short-key", "upper-key", "no-kind", "bad-kind", "chunk-past-end", "value-length", "negative-offset", "bad-mode", "bad-sha", "manifest-zero-chunks" };

    [Theory]
    [MemberData(nameof(HostileRecords))]
    public void TryDecode_Hostile_Refused(string which)
    {
        var good = Chunk("a", 100, 0, 0, new byte[10]);
        var headers = new List<RecordHeader>(good.Headers);
        void Set(string key, string value) { headers.RemoveAll(h => h.Key == key); headers.Add(new RecordHeader(key, Encoding.UTF8.GetBytes(value))); }
        var key = good.Key;
        var value = good.Value;
        switch (which)
        {
            case "no-key": key = null; break;
            case "short-key": key = Encoding.ASCII.GetBytes("abc"); break;
            case "upper-key": key = Encoding.ASCII.GetBytes(Id.ToUpperInvariant()); break;
            case "no-kind": headers.RemoveAll(h => h.Key == FileRecordCodec.KindHeader); break;
            case "bad-kind": Set(FileRecordCodec.KindHeader, "evil"); break;
            case "chunk-past-end": Set(FileRecordCodec.OffsetHeader, "95"); break;
            case "value-length": value = new byte[9]; break;
            case "negative-offset": Set(FileRecordCodec.OffsetHeader, "-1"); break;
            case "bad-mode": Set(FileRecordCodec.ModeHeader, "999"); break;
            case "bad-sha": Set(FileRecordCodec.Sha256Header, "zz"); break;
            case "manifest-zero-chunks":
                headers = [.. Manifest("a", 100, 0, new byte[32]).Headers];
                value = Array.Empty<byte>();
                break;
        }
        var record = new Record { Key = key, Value = value, Headers = headers };
        Assert.False(FileRecordCodec.TryDecode(record, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void FileRecordBatch_ChunksOfSeveralFilesReadInPlace_DecodeInOrder()
    {
        var buffer = new byte[8192];
        var batch = new FileRecordBatch(buffer);
        var sent = new List<(Record Record, byte[] Data)>();
        for (var i = 0; i < 3; i++)
        {
            var data = new byte[1000 + i * 500];
            Random.Shared.NextBytes(data);
            var r = Chunk($"dir/f{i}.bin", data.Length, 0, 0, data, id: $"{i:x32}");
            // As the sender does: find the value's place, put the bytes there, then write the record around them.
            var offset = batch.ValueOffset(r.Key!.Value, data.Length, r.Headers);
            Assert.True(offset > 0);
            data.CopyTo(buffer, offset);
            batch.Append(r.Key!.Value, buffer.AsMemory(offset, data.Length), r.Headers);
            sent.Add((r, data));
        }
        Assert.Equal(-1, batch.ValueOffset(sent[0].Record.Key!.Value, 8192, sent[0].Record.Headers)); // would not fit
        var sealedBatch = batch.Seal(1234, 7, 0, 42);
        Assert.Equal(BatchValidation.Valid, RecordBatchHeader.Validate(sealedBatch.Span, out var header));
        Assert.Equal((7L, 42, 3), (header.ProducerId, header.BaseSequence, header.RecordCount));
        var decoded = RecordBatchReader.ReadRecords(sealedBatch).ToList();
        Assert.Equal(3, decoded.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(FileRecordCodec.TryDecode(decoded[i], out var file, out var error), error);
            Assert.Equal(sent[i].Data, file!.Data.ToArray());
            Assert.Equal($"dir/f{i}.bin", file.Path);
        }
    }
}
