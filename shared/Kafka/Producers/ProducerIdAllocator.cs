using EdgeStream.Metadata;

namespace EdgeStream.Kafka.Producers;

/// <summary>
/// Hands out producer ids for InitProducerId, never the same one twice across restarts: ids are
/// reserved from the metadata store in blocks, so a restart skips the rest of a block instead
/// of reusing it. Transactional ids keep their producer id and get a higher epoch each time.
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

    /// <summary>The producer id of a transactional id with its epoch bumped (fencing older instances).</summary>
    public (long ProducerId, short Epoch) ForTransactionalId(string transactionalId)
    {
        lock (_lock)
        {
            var key = "txn:" + transactionalId;
            if (_store.TryGet(key, out var entry) && short.TryParse(entry.Text, out var epoch) && epoch < short.MaxValue - 1)
            {
                var bumped = (short)(epoch + 1);
                _store.Put(key, entry.Number, bumped.ToString(System.Globalization.CultureInfo.InvariantCulture));
                return (entry.Number, bumped);
            }
            var id = entry.Number > 0 ? entry.Number : Allocate();
            _store.Put(key, id, "0");
            return (id, 0);
        }
    }
}
