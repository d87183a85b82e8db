namespace EdgeStream.Files.Format;

/// <summary>Which of the two record kinds of a file stream a record is.</summary>
public enum FileRecordKind
{
    /// <summary>Bytes [offset, offset + length) of the file, with their SHA-256.</summary>
    Chunk,
    /// <summary>The last record of a file version: the whole file's SHA-256 and its chunk count.</summary>
    Manifest,
}

/// <summary>
/// One record of a file stream, decoded and checked for shape (<see cref="FileRecordCodec.TryDecode"/>).
/// Every record of a file version carries what a receiver needs to place it, so chunks can arrive in
/// any order and before the manifest.
/// </summary>
public sealed class FileRecord
{
    public required FileRecordKind Kind { get; init; }
    /// <summary>The file version's id: 32 lowercase hex digits, the record key.</summary>
    public required string FileId { get; init; }
    /// <summary>Relative path as the sender names it, '/'-separated. Hostile until <c>SafePath</c> accepts it.</summary>
    public required string Path { get; init; }
    public required long Size { get; init; }
    /// <summary>Last write time, nanoseconds since the Unix epoch.</summary>
    public required long MtimeNs { get; init; }
    /// <summary>Permission bits (e.g. 0644 octal).</summary>
    public required int Mode { get; init; }
    /// <summary>SHA-256 of the chunk's bytes (chunk) or of the whole file (manifest).</summary>
    public required byte[] Sha256 { get; init; }
    /// <summary>Chunk index (chunk only).</summary>
    public int Index { get; init; }
    /// <summary>Byte offset of the chunk in the file (chunk only).</summary>
    public long Offset { get; init; }
    /// <summary>Bytes in the chunk (chunk only).</summary>
    public int Length { get; init; }
    /// <summary>Number of chunks of the file (manifest only).</summary>
    public int Chunks { get; init; }
    /// <summary>The sender's host name, where the log carries no origin node (a plain Kafka broker).</summary>
    public string? Host { get; init; }
    /// <summary>The chunk's bytes (chunk only; empty for a manifest).</summary>
    public ReadOnlyMemory<byte> Data { get; init; }
}
