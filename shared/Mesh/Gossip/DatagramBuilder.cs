using System.Buffers;
using System.Net;

namespace EdgeStream.Mesh.Gossip;

/// <summary>
/// Builds one datagram in a reused buffer of <see cref="GossipCodec.MaxDatagramBytes"/>: the
/// envelope first, then pre-encoded updates for as long as they fit. Not thread-safe: one per
/// engine, used under its lock.
/// </summary>
public sealed class DatagramBuilder : IBufferWriter<byte>
{
    private readonly byte[] _buffer;
    private int _written;

    public DatagramBuilder(int capacity = GossipCodec.MaxDatagramBytes) => _buffer = new byte[capacity];

    public int Capacity => _buffer.Length;

    public int Length => _written;

    public int Remaining => _buffer.Length - _written;

    public ReadOnlySpan<byte> Datagram => _buffer.AsSpan(0, _written);

    /// <summary>Starts a new datagram with its envelope.</summary>
    public void Begin(GossipCodec codec, GossipMessageType type, string from, uint sequence, string? target = null, IPEndPoint? targetEndPoint = null)
    {
        _written = 0;
        codec.WriteEnvelope(this, type, from, sequence, target, targetEndPoint);
    }

    /// <summary>Appends one encoded update if it fits; false (nothing written) if it does not.</summary>
    public bool TryAppend(ReadOnlySpan<byte> update)
    {
        if (update.Length > Remaining) return false;
        update.CopyTo(_buffer.AsSpan(_written));
        _written += update.Length;
        return true;
    }

    void IBufferWriter<byte>.Advance(int count)
    {
        if ((uint)count > (uint)Remaining) throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
    }

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint) => _buffer.AsMemory(_written, Check(sizeHint));

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => _buffer.AsSpan(_written, Check(sizeHint));

    // The envelope is bounded by the name limits (well under 400 bytes), so running out here is a bug, not input.
    private int Check(int sizeHint) =>
        Math.Max(sizeHint, 1) <= Remaining ? Remaining : throw new InvalidOperationException($"datagram envelope over {_buffer.Length} bytes");
}
