using EdgeStream.Kafka.Client;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Sink;

/// <summary>
/// How one worker's connection writes: as an idempotent producer (KIP-98: a producer id, and a sequence
/// per target partition from 0) with up to <see cref="IdempotentWindow"/> produces in flight, or, when
/// the external cluster offers no producer id, plain produces one at a time. The idempotence is what
/// makes the window safe for order: a produce that fails makes the broker refuse every later one of the
/// window (OUT_OF_ORDER_SEQUENCE_NUMBER), so what landed is always a prefix of what was sent and a
/// re-read of the target finds the origin streams in order. Valid for one connection only: after any
/// failure the worker drops it with the connection and the next one gets a new id.
/// </summary>
internal sealed class SinkProducer
{
    /// <summary>Kafka keeps the last five batches per producer and partition; more in flight cannot be checked.</summary>
    public const int IdempotentWindow = 5;

    private const short ClusterAuthorizationFailed = 31;

    private readonly Dictionary<int, int> _sequences = [];

    private SinkProducer(long id, short epoch, int window)
    {
        Id = id;
        Epoch = epoch;
        Window = window;
    }

    /// <summary>-1 when the produces are not idempotent.</summary>
    public long Id { get; }

    public short Epoch { get; }

    /// <summary>How many produces may be in flight at once per target partition.</summary>
    public int Window { get; }

    /// <summary>
    /// A producer id from the cluster, or plain produces when it does not speak InitProducerId or refuses
    /// the id (an ACL without IdempotentWrite on a cluster that still asks for it).
    /// </summary>
    public static async Task<SinkProducer> StartAsync(KafkaClient client, KafkaClientConnection leader, CancellationToken cancellationToken)
    {
        if (!leader.Supports(ApiKey.InitProducerId)) return new SinkProducer(-1, -1, 1);
        try
        {
            var (id, epoch) = await client.InitProducerIdAsync(cancellationToken).ConfigureAwait(false);
            return new SinkProducer(id, epoch, IdempotentWindow);
        }
        catch (KafkaClientException ex) when (ex.ErrorCode is ClusterAuthorizationFailed or KafkaErrors.UnsupportedVersion)
        {
            return new SinkProducer(-1, -1, 1);
        }
    }

    /// <summary>The base sequence of the next batch of <paramref name="count"/> records to <paramref name="partition"/> (-1 when not idempotent).</summary>
    public int NextSequence(int partition, int count)
    {
        if (Id < 0) return -1;
        _sequences.TryGetValue(partition, out var sequence);
        // Sequences wrap from int.MaxValue to 0, as the broker counts them.
        var next = (long)sequence + count;
        _sequences[partition] = (int)(next > int.MaxValue ? next - int.MaxValue - 1 : next);
        return sequence;
    }
}
