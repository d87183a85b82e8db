using EdgeStream.Metadata;

namespace EdgeStream.Kafka.Producers;

/// <summary>
/// Hands out producer ids for InitProducerId, never the same one twice across restarts: ids are
/// reserved from the metadata store in blocks, so a restart skips the rest of a block instead
/// of reusing it. Transactional ids keep theirs in the transaction coordinator's state.
/// </summary>
public sealed class ProducerIdAllocator
{
    private const int BlockSize = 1000;
    private readonly MetadataCollection _store;
    private readonly object _lock = new();
    private long _next;
    private long _blockEnd;

    public ProducerIdAllocator(MetadataStore metadata)
    {
        _store = metadata.Collection("producer_ids");
        _next = _blockEnd = _store.TryGet("next_block", out var e) ? e.Number : 1000;
    }

    public long Allocate()
    {
        lock (_lock)
        {
            if (_next >= _blockEnd)
            {
                _blockEnd = _next + BlockSize;
                _store.Put("next_block", _blockEnd);
            }
            return _next++;
        }
    }
}
