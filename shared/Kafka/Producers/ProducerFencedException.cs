using EdgeStream.Kafka.Server;

namespace EdgeStream.Kafka.Producers;

/// <summary>A batch refused by the idempotence checks, with the Kafka error code to return.</summary>
public sealed class ProducerFencedException : KafkaBrokerException
{
    public ProducerFencedException(KafkaErrorCode code, string message) : base(message) => Code = code;
    public KafkaErrorCode Code { get; }
}
