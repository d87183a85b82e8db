using System.Globalization;
using System.Text;
using EdgeStream.Records;

namespace EdgeStream.Files.Format;

/// <summary>
/// The file stream record format (docs/ARCHITECTURE.md, "Files"): key = file id, value = the chunk's
/// bytes (empty for the manifest), and <c>file.*</c> headers whose values are UTF-8 text (decimal
/// numbers, octal mode, lowercase hex hashes) so any Kafka tool can read them. No I/O.
/// </summary>
public static class FileRecordCodec
{
    public const string KindHeader = "file.kind";
    public const string PathHeader = "file.path";
    public const string SizeHeader = "file.size";
    public const string MtimeHeader = "file.mtime";
    public const string ModeHeader = "file.mode";
    public const string Sha256Header = "file.sha256";
    public const string IndexHeader = "file.chunk";
    public const string OffsetHeader = "file.offset";
    public const string LengthHeader = "file.length";
    public const string ChunksHeader = "file.chunks";
    public const string HostHeader = "file.host";

    /// <summary>The origin node header the uplink adds at each tier (the last occurrence counts).</summary>
    public const string OriginNodeHeader = "es.origin.node";

    public const string ChunkKind = "chunk";
    public const string ManifestKind = "manifest";

    /// <summary>Largest file the format admits (1 PiB): keeps every offset sum far from overflow.</summary>
    public const long MaxFileSize = 1L << 50;
    /// <summary>Most chunks per file a receiver accepts; its received-chunk bitmap is sized by it.</summary>
    public const int MaxChunks = 1 << 24;
    /// <summary>Largest chunk a receiver accepts.</summary>
    public const int MaxChunkLength = 64 * 1024 * 1024;
    /// <summary>Longest path header accepted, in UTF-8 bytes (Linux PATH_MAX).</summary>
    public const int MaxPathBytes = 4096;

    /// <summary>The headers of chunk <paramref name="index"/>.</summary>
    public static List<RecordHeader> ChunkHeaders(string path, long size, long mtimeNs, int mode, string? host, int index, long offset, int length, ReadOnlySpan<byte> sha256)
    {
        var headers = CommonHeaders(ChunkKind, path, size, mtimeNs, mode, host, sha256);
        headers.Add(Text(IndexHeader, Num(index)));
        headers.Add(Text(OffsetHeader, Num(offset)));
        headers.Add(Text(LengthHeader, Num(length)));
        return headers;
    }

    /// <summary>The headers of the manifest: the whole file's SHA-256 and chunk count.</summary>
    public static List<RecordHeader> ManifestHeaders(string path, long size, long mtimeNs, int mode, string? host, int chunks, ReadOnlySpan<byte> sha256)
    {
        var headers = CommonHeaders(ManifestKind, path, size, mtimeNs, mode, host, sha256);
        headers.Add(Text(ChunksHeader, Num(chunks)));
        return headers;
    }

    private static List<RecordHeader> CommonHeaders(string kind, string path, long size, long mtimeNs, int mode, string? host, ReadOnlySpan<byte> sha256)
    {
        var headers = new List<RecordHeader>(11)
        {
            Text(KindHeader, kind),
            Text(PathHeader, path),
            Text(SizeHeader, Num(size)),
            Text(MtimeHeader, Num(mtimeNs)),
            Text(ModeHeader, Convert.ToString(mode & 0xFFF, 8).PadLeft(4, '0')),
            Text(Sha256Header, Convert.ToHexStringLower(sha256)),
        };
        if (host is not null) headers.Add(Text(HostHeader, host));
        return headers;
    }

    /// <summary>
    /// Decodes and shape-checks one record. Returns false with a reason for anything a receiver must not
    /// act on: a missing or malformed header, numbers out of range, a chunk outside its file, a value whose
    /// length is not the chunk's. Says nothing about the path's safety (<c>SafePath</c>) or the hash.
    /// </summary>
    public static bool TryDecode(in Record record, out FileRecord? file, out string error)
    {
        file = null;
        error = "";
        if (record.Key is not { } key || key.Length != 32 || !IsLowerHex(key.Span)) return Fail("the key is not a 32-digit lowercase hex file id", out error);
        var fileId = Encoding.ASCII.GetString(key.Span);
        var kind = Header(record, KindHeader);
        if (kind is null) return Fail($"no {KindHeader} header", out error);
        var path = Header(record, PathHeader);
        if (path is null || path.Length == 0 || Encoding.UTF8.GetByteCount(path) > MaxPathBytes) return Fail($"{PathHeader} is missing, empty or longer than {MaxPathBytes} bytes", out error);
        if (!TryLong(record, SizeHeader, 0, MaxFileSize, out var size, out error)) return false;
        if (!TryLong(record, MtimeHeader, long.MinValue, long.MaxValue, out var mtime, out error)) return false;
        var modeText = Header(record, ModeHeader);
        int mode;
        try { mode = modeText is { Length: >= 1 and <= 6 } ? Convert.ToInt32(modeText, 8) : -1; }
        catch (FormatException) { mode = -1; }
        if (mode is < 0 or > 0xFFF) return Fail($"{ModeHeader} is not an octal mode", out error);
        var hashText = Header(record, Sha256Header);
        if (hashText is not { Length: 64 } || !IsLowerHex(Encoding.ASCII.GetBytes(hashText))) return Fail($"{Sha256Header} is not 64 lowercase hex digits", out error);
        var sha = Convert.FromHexString(hashText);
        var host = Header(record, HostHeader);
        var data = record.Value ?? ReadOnlyMemory<byte>.Empty;
        switch (kind)
        {
            case ChunkKind:
                if (!TryLong(record, IndexHeader, 0, MaxChunks - 1, out var index, out error)) return false;
                if (!TryLong(record, OffsetHeader, 0, size, out var offset, out error)) return false;
                if (!TryLong(record, LengthHeader, 1, MaxChunkLength, out var length, out error)) return false;
                if (offset + length > size) return Fail($"chunk {index} [{offset}, {offset + length}) lies outside the file's {size} bytes", out error);
                if (data.Length != length) return Fail($"chunk {index} carries {data.Length} bytes, its {LengthHeader} says {length}", out error);
                file = new FileRecord
                {
                    Kind = FileRecordKind.Chunk, FileId = fileId, Path = path, Size = size, MtimeNs = mtime, Mode = mode, Sha256 = sha, Host = host,
                    Index = (int)index, Offset = offset, Length = (int)length, Data = data,
                };
                return true;
            case ManifestKind:
                if (!TryLong(record, ChunksHeader, 0, MaxChunks, out var chunks, out error)) return false;
                if (chunks == 0 != (size == 0)) return Fail($"a manifest of {chunks} chunks for {size} bytes", out error);
                if (chunks > size && size > 0) return Fail($"a manifest of {chunks} chunks for {size} bytes", out error);
                file = new FileRecord
                {
                    Kind = FileRecordKind.Manifest, FileId = fileId, Path = path, Size = size, MtimeNs = mtime, Mode = mode, Sha256 = sha, Host = host,
                    Chunks = (int)chunks,
                };
                return true;
            default:
                return Fail($"{KindHeader} '{kind}' is neither {ChunkKind} nor {ManifestKind}", out error);
        }
    }

    /// <summary>The value of the last header named <paramref name="name"/> as UTF-8 text; null when absent or not text.</summary>
    public static string? Header(in Record record, string name)
    {
        var headers = record.Headers;
        if (headers is null) return null;
        for (var i = headers.Count - 1; i >= 0; i--)
        {
            if (headers[i].Key != name) continue;
            if (headers[i].Value is not { } v) return null;
            try { return s_strictUtf8.GetString(v.Span); }
            catch (DecoderFallbackException) { return null; }
        }
        return null;
    }

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static bool TryLong(in Record record, string name, long min, long max, out long value, out string error)
    {
        var text = Header(record, name);
        if (text is null || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) || value < min || value > max)
        {
            value = 0;
            error = $"{name} is missing or not a whole number from {min} to {max}";
            return false;
        }
        error = "";
        return true;
    }

    private static bool IsLowerHex(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
            if (!(b is >= (byte)'0' and <= (byte)'9' || b is >= (byte)'a' and <= (byte)'f')) return false;
        return true;
    }

    private static bool Fail(string reason, out string error)
    {
        error = reason;
        return false;
    }

    private static RecordHeader Text(string key, string value) => new(key, Encoding.UTF8.GetBytes(value));

    private static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
}
