using System.Collections.Concurrent;

namespace EdgeStream.Uplink.Receiving;

/// <summary>Counters of the parent side since start-up (for /v1/status). Lock-free.</summary>
public sealed class UplinkReceiverStats
{
    private readonly ConcurrentDictionary<string, byte> _children = new(StringComparer.Ordinal);
    private long _connected;
    private long _frames;
    private long _records;
    private long _duplicateFrames;
    private long _duplicateRecords;
    private long _invalidFrames;
    private long _refusedFrames;
    private long _revokedRefusals;

    /// <summary>Distinct child node ids that opened a stream.</summary>
    public int ChildrenSeen => _children.Count;
    /// <summary>Streams open now.</summary>
    public long ChildrenConnected => Interlocked.Read(ref _connected);
    /// <summary>Frames acknowledged (OK or DUPLICATE).</summary>
    public long Frames => Interlocked.Read(ref _frames);
    /// <summary>Records written.</summary>
    public long Records => Interlocked.Read(ref _records);
    /// <summary>Frames that were entirely already stored.</summary>
    public long DuplicateFrames => Interlocked.Read(ref _duplicateFrames);
    /// <summary>Records received but already stored (whole or partial duplicates).</summary>
    public long DuplicateRecords => Interlocked.Read(ref _duplicateRecords);
    /// <summary>Frames answered INVALID.</summary>
    public long InvalidFrames => Interlocked.Read(ref _invalidFrames);
    /// <summary>Frames answered STORAGE_FULL or UNAVAILABLE.</summary>
    public long RefusedFrames => Interlocked.Read(ref _refusedFrames);
    /// <summary>Streams and frames refused because their node, or the origin a gateway relays, is revoked.</summary>
    public long RevokedRefusals => Interlocked.Read(ref _revokedRefusals);

    internal void Connected(string nodeId)
    {
        _children.TryAdd(nodeId, 0);
        Interlocked.Increment(ref _connected);
    }

    internal void Disconnected() => Interlocked.Decrement(ref _connected);

    internal void Acked(int written, int received)
    {
        Interlocked.Increment(ref _frames);
        if (written > 0) Interlocked.Add(ref _records, written);
        else Interlocked.Increment(ref _duplicateFrames);
        if (received > written) Interlocked.Add(ref _duplicateRecords, received - written);
    }

    internal void Invalid() => Interlocked.Increment(ref _invalidFrames);
    internal void Refused() => Interlocked.Increment(ref _refusedFrames);
    internal void Revoked() => Interlocked.Increment(ref _revokedRefusals);
}
