using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace EdgeStream.Files.Receiving;

/// <summary>
/// One file version being reassembled: a data file its chunks are written into at their offsets, and a
/// state file recording which chunks are in it (verified) and the manifest once seen. The state is
/// rewritten (temp file, fsync, rename) only after the data it describes was fsynced, so after kill -9
/// every chunk it lists is on disk; chunks written after it are simply written again when redelivered.
/// While chunks arrive in order (the sender's order) their bytes are hashed as they are written, so a
/// complete file's whole SHA-256 needs no second read of the data; otherwise it is read back once.
/// </summary>
internal sealed class PartialFile : IDisposable
{
    private const string Magic = "edgestream-partial-v1";

    private readonly string _statePath;
    private SafeFileHandle? _data;
    private byte[] _bitmap;
    // Nothing on disk belongs to this version yet: whatever a data file of this name holds (left by a crash before
    // it was recorded anywhere, possibly with a read-only mode already set) is replaced on the first write.
    private bool _fresh;
    // The whole-file hash of chunks 0..n-1 written back to back from offset 0; null once a chunk came out of order.
    private IncrementalHash? _inOrderHash;
    private int _inOrderChunks;
    private long _inOrderBytes;

    private PartialFile(string directory, string key, string origin, string fileId, string[] parts, string path, long size, long mtimeNs, int mode, byte[] bitmap)
    {
        DataPath = Path.Combine(directory, key + ".data");
        _statePath = Path.Combine(directory, key + ".state");
        Origin = origin;
        FileId = fileId;
        Parts = parts;
        RelativePath = path;
        Size = size;
        MtimeNs = mtimeNs;
        Mode = mode;
        _bitmap = bitmap;
    }

    public string DataPath { get; }
    public string Origin { get; }
    public string FileId { get; }
    public string[] Parts { get; }
    public string RelativePath { get; }
    public long Size { get; }
    public long MtimeNs { get; private set; }
    public int Mode { get; private set; }
    /// <summary>The manifest's chunk count; -1 until it arrives.</summary>
    public int Chunks { get; private set; } = -1;
    public byte[]? WholeSha256 { get; private set; }
    public long ReceivedBytes { get; private set; }
    public int ReceivedChunks { get; private set; }
    public bool Dirty { get; private set; }
    /// <summary>Set when the whole-file hash did not match: the file is never materialized.</summary>
    public bool Corrupt { get; private set; }

    /// <summary>The manifest arrived and every chunk it counts is written and verified.</summary>
    public bool IsComplete
    {
        get
        {
            if (Chunks < 0 || Corrupt || ReceivedChunks < Chunks) return false;
            for (var i = 0; i < Chunks; i++)
                if (!Has(i)) return false;
            return true;
        }
    }

    public static PartialFile Create(string directory, string key, string origin, string fileId, string[] parts, string path, long size, long mtimeNs, int mode) =>
        new(directory, key, origin, fileId, parts, path, size, mtimeNs, mode, []) { _fresh = true, _inOrderHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256) };

    /// <summary>Whether this version was loaded from a saved state (an earlier run made part of it durable).</summary>
    public bool Loaded { get; private init; }

    /// <summary>The saved state of <paramref name="key"/>, or null when there is none (or it is unreadable: the file starts over).</summary>
    public static PartialFile? Load(string directory, string key, string origin, string fileId)
    {
        var statePath = Path.Combine(directory, key + ".state");
        string[] lines;
        try { lines = File.ReadAllLines(statePath); }
        catch (FileNotFoundException) { return null; }
        if (lines.Length < 8 || lines[0] != Magic) return null;
        try
        {
            var path = Encoding.UTF8.GetString(Convert.FromBase64String(Field(lines[1], "path")));
            var parts = SafePath.Split(path, out _);
            if (parts is null) return null;
            var file = new PartialFile(directory, key, origin, fileId, parts, path,
                long.Parse(Field(lines[2], "size"), CultureInfo.InvariantCulture),
                long.Parse(Field(lines[3], "mtime"), CultureInfo.InvariantCulture),
                int.Parse(Field(lines[4], "mode"), CultureInfo.InvariantCulture),
                Convert.FromBase64String(Field(lines[7], "bitmap"))) { Loaded = true };
            var manifest = Field(lines[5], "manifest");
            if (manifest != "-")
            {
                var m = manifest.Split(' ');
                file.Chunks = int.Parse(m[0], CultureInfo.InvariantCulture);
                file.WholeSha256 = Convert.FromHexString(m[1]);
                file.Corrupt = m.Length > 2 && m[2] == "corrupt";
            }
            file.ReceivedBytes = long.Parse(Field(lines[6], "received"), CultureInfo.InvariantCulture);
            foreach (var b in file._bitmap) file.ReceivedChunks += System.Numerics.BitOperations.PopCount(b);
            return file;
        }
        catch (FormatException) { return null; }
        catch (OverflowException) { return null; }
        catch (IndexOutOfRangeException) { return null; }
    }

    private static string Field(string line, string name) =>
        line.StartsWith(name + " ", StringComparison.Ordinal) ? line[(name.Length + 1)..] : throw new FormatException($"expected {name}");

    public bool Has(int index) => index / 8 < _bitmap.Length && (_bitmap[index / 8] & (1 << (index % 8))) != 0;

    /// <summary>Writes a verified chunk at its offset (not yet durable: <see cref="Persist"/>).</summary>
    public void Write(int index, long offset, ReadOnlySpan<byte> data)
    {
        RandomAccess.Write(Handle(), data, offset);
        if (_inOrderHash is not null && index == _inOrderChunks && offset == _inOrderBytes)
        {
            _inOrderHash.AppendData(data);
            _inOrderChunks++;
            _inOrderBytes += data.Length;
        }
        else DropInOrderHash();
        if (index / 8 >= _bitmap.Length) Array.Resize(ref _bitmap, Math.Max(index / 8 + 1, _bitmap.Length * 2));
        _bitmap[index / 8] |= (byte)(1 << (index % 8));
        ReceivedBytes += data.Length;
        ReceivedChunks++;
        Dirty = true;
    }

    public void SetManifest(int chunks, byte[] sha256, long mtimeNs, int mode)
    {
        Chunks = chunks;
        WholeSha256 = sha256;
        MtimeNs = mtimeNs;
        Mode = mode;
        Dirty = true;
    }

    public void MarkCorrupt()
    {
        Corrupt = true;
        Dirty = true;
    }

    // The data file, opened once: a fresh version replaces what a file of its name holds; a loaded one keeps it
    // (made writable again if a crash came after its final mode was set).
    private SafeFileHandle Handle()
    {
        if (_data is not null) return _data;
        if (_fresh)
        {
            File.Delete(DataPath);
            _data = File.OpenHandle(DataPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
            _fresh = false;
            return _data;
        }
        try
        {
            _data = File.OpenHandle(DataPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        }
        catch (UnauthorizedAccessException) when (!OperatingSystem.IsWindows() && File.Exists(DataPath))
        {
            File.SetUnixFileMode(DataPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            _data = File.OpenHandle(DataPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        }
        return _data;
    }

    private void DropInOrderHash()
    {
        _inOrderHash?.Dispose();
        _inOrderHash = null;
    }

    /// <summary>fsyncs the data written so far, then replaces the state file with one that lists it.</summary>
    public void Persist()
    {
        if (!Dirty) return;
        RandomAccess.FlushToDisk(Handle());
        var text = new StringBuilder()
            .Append(Magic).Append('\n')
            .Append("path ").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(RelativePath))).Append('\n')
            .Append("size ").Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("mtime ").Append(MtimeNs.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("mode ").Append(Mode.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("manifest ").Append(Chunks < 0 ? "-" : $"{Chunks.ToString(CultureInfo.InvariantCulture)} {Convert.ToHexStringLower(WholeSha256!)}{(Corrupt ? " corrupt" : "")}").Append('\n')
            .Append("received ").Append(ReceivedBytes.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("bitmap ").Append(Convert.ToBase64String(_bitmap)).Append('\n')
            .ToString();
        var temp = _statePath + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096))
        {
            stream.Write(Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, _statePath, overwrite: true);
        DirectorySync.Sync(Path.GetDirectoryName(_statePath)!);
        Dirty = false;
    }

    /// <summary>
    /// Whether the data file's SHA-256 is the manifest's: from the hash kept while the chunks came in order, else
    /// by reading the file once, sequentially.
    /// </summary>
    public bool VerifyWhole()
    {
        var handle = Handle();
        if (RandomAccess.GetLength(handle) != Size) return false;
        Span<byte> hash = stackalloc byte[32];
        if (_inOrderHash is not null && _inOrderChunks == Chunks && _inOrderBytes == Size)
        {
            _inOrderHash.GetHashAndReset(hash);
            DropInOrderHash();
            return CryptographicOperations.FixedTimeEquals(hash, WholeSha256);
        }
        DropInOrderHash();
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(Size, 1024 * 1024));
        try
        {
            for (long position = 0; position < Size;)
            {
                var n = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, Size - position)), position);
                if (n == 0) return false;
                whole.AppendData(buffer, 0, n);
                position += n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        whole.GetHashAndReset(hash);
        return CryptographicOperations.FixedTimeEquals(hash, WholeSha256);
    }

    /// <summary>
    /// Gives the verified data file its mtime and mode and starts writing it to disk, without waiting: the first
    /// step of materializing a batch of files (<see cref="Sync"/> on each comes after every one was started).
    /// </summary>
    public void Seal()
    {
        var handle = Handle();
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(handle, (UnixFileMode)(Mode & 0x1FF));
        File.SetLastWriteTimeUtc(handle, new DateTime(DateTime.UnixEpoch.Ticks + MtimeNs / 100, DateTimeKind.Utc));
        WritebackStart.Begin(handle);
    }

    /// <summary>fsyncs the data file (its bytes, mode and mtime).</summary>
    public void Sync() => RandomAccess.FlushToDisk(Handle());

    /// <summary>Renames the (synced) data file to <paramref name="target"/>: atomic on one file system, replacing a file there.</summary>
    public void MoveTo(string target)
    {
        Dispose();
        File.Move(DataPath, target, overwrite: true);
    }

    public void Dispose()
    {
        _data?.Dispose();
        _data = null;
        DropInOrderHash();
    }
}
