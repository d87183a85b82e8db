namespace EdgeStream.Records;

/// <summary>One record header: a string key and a nullable byte value.</summary>
public readonly record struct RecordHeader(string Key, ReadOnlyMemory<byte>? Value);

/// <summary>
/// A record as decoded from a batch, with absolute offset and timestamp. Key and value slice
/// the decoded batch buffer: copy them before the buffer is reused.
/// </summary>
public readonly struct Record
{
    public long Offset { get; init; }
    public long Timestamp { get; init; }
    public ReadOnlyMemory<byte>? Key { get; init; }
    public ReadOnlyMemory<byte>? Value { get; init; }
    public IReadOnlyList<RecordHeader> Headers { get; init; }
}

/// <summary>What a producer hands to <see cref="RecordBatchBuilder"/>.</summary>
public readonly record struct ProducerRecord(
    ReadOnlyMemory<byte>? Key,
    ReadOnlyMemory<byte>? Value,
    long Timestamp,
    IReadOnlyList<RecordHeader>? Headers = null);
