using EdgeStream.Records;

namespace EdgeStream.Uplink.Protocol;

/// <summary>
/// Records of ONE origin stream (origin node, origin topic, origin partition) with contiguous origin
/// offsets: record i has origin offset <see cref="FirstOriginOffset"/> + i. A sender splits frames
/// where the origin stream changes or its offsets have a gap (retention, dropped segments), so the
/// parent's de-duplication state is a set of offset ranges per origin stream.
/// </summary>
public sealed class UplinkFrame
{
    /// <summary>Node id of the node where the records were first written.</summary>
    public required string OriginNode { get; init; }

    /// <summary>Topic the records were first written to, on the origin node.</summary>
    public required string OriginTopic { get; init; }

    public required int OriginPartition { get; init; }

    /// <summary>Partitions of the origin topic: the parent creates the target topic with at least as many.</summary>
    public required int OriginPartitionCount { get; init; }

    /// <summary>Topic the parent writes to (the origin topic after the sender's rename/prefix rules).</summary>
    public required string TargetTopic { get; init; }

    /// <summary>Origin offset of <c>Records[0]</c>.</summary>
    public required long FirstOriginOffset { get; init; }

    public required IReadOnlyList<UplinkRecord> Records { get; init; }

    /// <summary>Origin offset of the last record.</summary>
    public long LastOriginOffset => FirstOriginOffset + Records.Count - 1;
}

/// <summary>
/// One record as the origin stored it: timestamp, key, value and the user's headers, byte for byte.
/// Origin headers (<see cref="OriginHeaders"/>) are NOT in <see cref="Headers"/>: the frame carries
/// the origin and the parent adds them when it writes.
/// </summary>
public readonly record struct UplinkRecord(long Timestamp, ReadOnlyMemory<byte>? Key, ReadOnlyMemory<byte>? Value, IReadOnlyList<RecordHeader> Headers);
