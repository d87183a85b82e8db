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

    [Fact]
    public void Flush_BatchJournaledThenRedelivered_EachFileMaterializedOnce()
    {
        using var dir = new TempDirectory();
        var files = Enumerable.Range(0, 5).Select(i => FileOf($"batch/f{i}.bin", 700 + i * 900, id: $"{i:x32}")).ToList();
        using (var first = Assembler(dir, out var status))
        {
            foreach (var (_, chunks, manifest) in files)
            {
                foreach (var c in chunks) first.Accept(0, c);
                first.Accept(0, manifest);
            }
            first.Flush();
            Assert.Equal(5, status.Snapshot().FilesCompleted);
        }
        // One journal line per file of the batch, kept until a checkpoint.
        var journal = dir.Combine(".edgestream-files", "completed.log");
        Assert.Equal(5, File.ReadAllLines(journal).Length);
        // Killed before the consumer position was committed: a new receiver gets every record again. A file put back in
        // place would get the sender's mtime again; the test's own mtime shows it was left alone.
        var untouched = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        for (var i = 0; i < files.Count; i++) File.SetLastWriteTimeUtc(dir.Combine("edge-1", "batch", $"f{i}.bin"), untouched);
        using var second = Assembler(dir, out var status2);
        Assert.Equal(0, new FileInfo(journal).Length); // checkpointed at start
        foreach (var (_, chunks, manifest) in files)
        {
            foreach (var c in chunks) second.Accept(0, c);
            second.Accept(0, manifest);
        }
        second.Flush();
        Assert.Equal(0, status2.Snapshot().FilesCompleted);
        for (var i = 0; i < files.Count; i++)
        {
            var target = dir.Combine("edge-1", "batch", $"f{i}.bin");
            Assert.Equal(files[i].Data, File.ReadAllBytes(target));
            Assert.Equal(untouched, File.GetLastWriteTimeUtc(target));
        }
        Assert.Empty(Directory.EnumerateFiles(dir.Combine(".edgestream-files", "partial")));
    }

    [Fact]
    public void Start_JournalLineWhoseRenameWasCutOff_PutInPlaceOnce_TornLineIgnored()
    {
        using var dir = new TempDirectory();
        const string id = "0123456789abcdef0123456789abcdef";
        var (data, chunks, manifest) = FileOf("cut/short.bin", 2500, id: id);
        // As if killed right after a batch's journal fsync: the verified, fsynced data file still in partial/, its journal
        // line written, no rename, no done marker; and a second line torn by the kill before its fsync (never acknowledged).
        var state = dir.Combine(".edgestream-files");
        Directory.CreateDirectory(Path.Combine(state, "partial"));
        File.WriteAllBytes(Path.Combine(state, "partial", $"edge-1.{id}.data"), data);
        File.WriteAllText(Path.Combine(state, "completed.log"), $"edge-1.{id}\tedge-1/cut/short.bin\nedge-1.{new string('f', 32)}\tedge-1/to");

        using var assembler = Assembler(dir, out var status);
        var target = dir.Combine("edge-1", "cut", "short.bin");
        Assert.Equal(data, File.ReadAllBytes(target));
        Assert.Equal(["edge-1", "edge-1/cut", "edge-1/cut/short.bin"], FilesCli.Tree(dir.Path));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(state, "partial")));
        Assert.Equal(0, new FileInfo(Path.Combine(state, "completed.log")).Length);

        // Its records delivered again (they were never acknowledged): duplicates of a completed version.
        foreach (var c in chunks) assembler.Accept(0, c);
        assembler.Accept(0, manifest);
        assembler.Flush();
        Assert.Equal(0, status.Snapshot().FilesCompleted);
        Assert.Equal(data, File.ReadAllBytes(target));
    }

    [Fact]
    public void Flush_ChunksOutOfOrder_WholeHashStillChecked()
    {
        using var dir = new TempDirectory();
        using var assembler = Assembler(dir, out var status);
        // In order the whole hash is kept while writing; out of order the file is read back. Both must refuse a wrong manifest.
        var (_, inOrder, _) = FileOf("a.bin", 3000, id: new string('a', 32));
        var (_, outOfOrder, _) = FileOf("b.bin", 3000, id: new string('b', 32));
        foreach (var c in inOrder) assembler.Accept(0, c);
        foreach (var i in new[] { 2, 0, 1 }) assembler.Accept(0, outOfOrder[i]);
        assembler.Accept(0, Manifest("a.bin", 3000, 3, new byte[32], new string('a', 32)));
        assembler.Accept(0, Manifest("b.bin", 3000, 3, new byte[32], new string('b', 32)));
        assembler.Flush();
        Assert.Empty(FilesCli.Tree(dir.Path));
        Assert.All(Assert.Single(status.Snapshot().Origins).InFlight, f => Assert.Equal("hash-mismatch", f.State));
    }
}
