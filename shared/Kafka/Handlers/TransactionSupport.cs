namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    /// <summary>
    /// The code a fenced producer gets: PRODUCER_FENCED from the version that introduced it to this
    /// API (KIP-588), INVALID_PRODUCER_EPOCH before it, as older clients know only that one.
    /// </summary>
    private static short FencedCode(short version, short firstVersionWithProducerFenced) =>
        (short)(version >= firstVersionWithProducerFenced ? KafkaErrorCode.ProducerFenced : KafkaErrorCode.InvalidProducerEpoch);

    /// <summary>
    /// Runs one coordinator operation; a storage or metadata failure (a marker that could not be
    /// written, meta.db refusing a write) becomes its Kafka error code, and the transaction stays
    /// where it was for the client's retry.
    /// </summary>
    private static async Task<KafkaErrorCode> CoordinatorCallAsync(Func<Task<KafkaErrorCode>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EdgeStreamException or IOException)
        {
            return ErrorFor(ex);
        }
    }
}
