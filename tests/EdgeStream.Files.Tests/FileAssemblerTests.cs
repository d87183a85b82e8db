using System.Security.Cryptography;
using EdgeStream.Files.Receiving;
using EdgeStream.Records;
using EdgeStream.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using static EdgeStream.Files.Tests.FileRecordCodecTests;

namespace EdgeStream.Files.Tests;

/// <summary>Reassembly in process: order, duplicates, bad chunks, hash mismatch, restarts, hostile paths.</summary>
public sealed class FileAssemblerTests
{
    private const int ChunkSize = 1000;

    private static (byte[] Data, List<Record> Chunks, Record Manifest) FileOf(string path, int size, string id = "0123456789abcdef0123456789abcdef", int mode = 0x1A4)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        var chunks = new List<Record>();
        for (int i = 0, offset = 0; offset < size; i++, offset += ChunkSize)
            chunks.Add(Chunk(path, size, i, offset, data.AsSpan(offset, Math.Min(ChunkSize, size - offset)).ToArray(), id: id, mode: mode));
        return (data, chunks, Manifest(path, size, chunks.Count, SHA256.HashData(data), id, mode));
    }

    private static FileAssembler Assembler(TempDirectory dir, out FilesStatus status)
    {
        status = new FilesStatus(dir.Path);
        return new FileAssembler(dir.Path, status, NullLogger.Instance, "edge-1");
    }

    [Fact]
    public void Accept_ChunksInAnyOrderWithDuplicates_MaterializedOnceWithModeAndMtime()
    {
        using var dir = new TempDirectory();
        using var assembler = Assembler(dir, out var status);
        var (data, chunks, manifest) = FileOf("sub/data.bin", 10_500, mode: 0x180);
        assembler.Accept(0, manifest);
        foreach (var i in new[] { 7, 3, 10, 0, 3, 1, 2, 9, 4, 5 }) assembler.Accept(0, chunks[i]);
        assembler.Flush();
        var target = dir.Combine("edge-1", "sub", "data.bin");
        Assert.False(File.Exists(target)); // chunk 6 and 8 missing
        assembler.Accept(0, chunks[8]);
        assembler.Accept(0, chunks[6]);
        assembler.Flush();
        Assert.Equal(data, File.ReadAllBytes(target));
        if (!OperatingSystem.IsWindows()) Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(target));
        Assert.Equal(new DateTime(DateTime.UnixEpoch.Ticks + 1_700_000_000_123_456_700 / 100, DateTimeKind.Utc), File.GetLastWriteTimeUtc(target));
        Assert.Equal(1, status.Snapshot().FilesCompleted);

        // Duplicates after completion are ignored, even by a new assembler (after a restart).
        using var again = Assembler(dir, out var status2);
        foreach (var c in chunks) again.Accept(0, c);
        again.Accept(0, manifest);
        again.Flush();
        Assert.Equal(0, status2.Snapshot().FilesCompleted);
        Assert.Equal(data, File.ReadAllBytes(target));
    }

    [Fact]
    public void Accept_EmptyFile_MaterializedFromManifestAlone()
    {
        using var dir = new TempDirectory();
        using var assembler = Assembler(dir, out _);
        assembler.Accept(0, Manifest("empty", 0, 0, SHA256.HashData(Array.Empty<byte>())));
        assembler.Flush();
        Assert.Equal(0, new FileInfo(dir.Combine("edge-1", "empty")).Length);
    }

    [Fact]
    public void Accept_WrongHashChunk_ReportedNotWritten_GoodCopyCompletes()
    {
        using var dir = new TempDirectory();
        using var assembler = Assembler(dir, out var status);
        var (data, chunks, manifest) = FileOf("f.bin", 3000);
        var tampered = chunks[1].Value!.Value.ToArray();
        tampered[5] ^= 0xFF;
        assembler.Accept(0, Chunk("f.bin", 3000, 1, 1000, tampered, sha: SHA256.HashData(chunks[1].Value!.Value.Span)));
        assembler.Accept(0, chunks[0]);
        assembler.Accept(0, chunks[2]);
        assembler.Accept(0, manifest);
        assembler.Flush();
        Assert.False(File.Exists(dir.Combine("edge-1", "f.bin")));
        var snapshot = status.Snapshot();
        Assert.Equal(1, snapshot.BadChunks);
        Assert.Equal("bad-chunk", Assert.Single(Assert.Single(snapshot.Origins).InFlight).State);

        assembler.Accept(0, chunks[1]);
        assembler.Flush();
        Assert.Equal(data, File.ReadAllBytes(dir.Combine("edge-1", "f.bin")));
    }

    [Fact]
    public void Flush_WholeHashMismatch_NeverMaterialized()
    {
        using var dir = new TempDirectory();
        using var assembler = Assembler(dir, out var status);
        var (_, chunks, _) = FileOf("f.bin", 2500);
        foreach (var c in chunks) assembler.Accept(0, c);
        assembler.Accept(0, Manifest("f.bin", 2500, chunks.Count, new byte[32]));
        assembler.Flush();
        Assert.False(File.Exists(dir.Combine("edge-1", "f.bin")));
        Assert.Equal("hash-mismatch", Assert.Single(Assert.Single(status.Snapshot().Origins).InFlight).State);
    }

    [Fact]
    public void Flush_StateSurvivesANewAssembler_PartialResumed()
    {
        using var dir = new TempDirectory();
        var (data, chunks, manifest) = FileOf("resume.bin", 5000);
        using (var first = Assembler(dir, out _))
        {
            first.Accept(0, chunks[0]);
            first.Accept(0, chunks[3]);
            first.Accept(0, manifest);
            first.Flush();
            first.Accept(0, chunks[1]); // accepted but never flushed: as if killed here
        }
        using var second = Assembler(dir, out _);
        second.Accept(0, chunks[1]);
        second.Accept(0, chunks[2]);
        second.Accept(0, chunks[4]);
        second.Flush();
        Assert.Equal(data, File.ReadAllBytes(dir.Combine("edge-1", "resume.bin")));
    }

    [Theory]
    [InlineData("../outside.txt")]
    [InlineData("/tmp/absolute.txt")]
    [InlineData("a/../../outside.txt")]
    [InlineData("a\\..\\..\\outside.txt")]
    public void Accept_TraversalPath_RejectedNothingWritten(string path)
    {
        using var parent = new TempDirectory();
        var root = Path.Combine(parent.Path, "root");
        var status = new FilesStatus(root);
        using var assembler = new FileAssembler(root, status, NullLogger.Instance, "edge-1");
        var (_, chunks, manifest) = FileOf(path, 100);
        assembler.Accept(0, chunks[0]);
        assembler.Accept(0, manifest);
        assembler.Flush();
        Assert.Equal(["root"], Directory.GetFileSystemEntries(parent.Path).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(root, "edge-1")));
        Assert.Equal(2, status.Snapshot().RejectedRecords);
    }

    [Fact]
    public void Flush_PlantedSymlinkInPath_RefusedNothingWrittenOutside()
    {
        using var dir = new TempDirectory();
        using var outside = new TempDirectory();
        using var assembler = Assembler(dir, out var status);
        Directory.CreateDirectory(dir.Combine("edge-1"));
        File.CreateSymbolicLink(dir.Combine("edge-1", "logs"), outside.Path);
        var (_, chunks, manifest) = FileOf("logs/evil.txt", 100);
        assembler.Accept(0, chunks[0]);
        assembler.Accept(0, manifest);
        assembler.Flush();
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside.Path));
        Assert.Equal(1, status.Snapshot().RejectedRecords);
    }

    [Fact]
    public void Accept_OriginFromUplinkHeader_FilesUnderThatOrigin()
    {
        using var dir = new TempDirectory();
        using var assembler = Assembler(dir, out _);
        var (data, chunks, manifest) = FileOf("x.bin", 500);
        Record WithOrigin(Record r) => new() { Key = r.Key, Value = r.Value, Headers = [.. r.Headers, new RecordHeader("es.origin.node", "edge-far"u8.ToArray())] };
        assembler.Accept(0, WithOrigin(chunks[0]));
        assembler.Accept(0, WithOrigin(manifest));
        assembler.Flush();
        Assert.Equal(data, File.ReadAllBytes(dir.Combine("edge-far", "x.bin")));
    }
}
