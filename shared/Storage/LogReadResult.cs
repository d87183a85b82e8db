using System.Buffers;

namespace EdgeStream.Storage;

/// <summary>
/// Whole record batches read from a partition, in a pooled buffer: dispose it once the bytes are
/// sent. Batches are exactly as stored, so the Kafka layer serves them without re-encoding.
/// </summary>
public sealed class LogReadResult : IDisposable
{
    private byte[]? _buffer;
    private readonly int _length;

    internal LogReadResult(byte[]? buffer, int length, long highWatermark, long logStartOffset)
    {
        _buffer = buffer;
        _length = length;
        HighWatermark = highWatermark;
        LogStartOffset = logStartOffset;
    }

    internal static LogReadResult Empty(long highWatermark, long logStartOffset) => new(null, 0, highWatermark, logStartOffset);

    public ReadOnlyMemory<byte> Memory => _buffer is null ? default : _buffer.AsMemory(0, _length);
    public int Length => _length;
    public bool IsEmpty => _length == 0;
    public long HighWatermark { get; }
    public long LogStartOffset { get; }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
