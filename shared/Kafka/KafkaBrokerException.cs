namespace EdgeStream.Kafka;

/// <summary>
/// Root of the Kafka broker library's exceptions. What the codec refuses stays a
/// <see cref="Protocol.KafkaProtocolException"/> (EdgeStream.Kafka.Protocol's root).
/// </summary>
public class KafkaBrokerException : EdgeStreamException
{
    public KafkaBrokerException(string message) : base(message) { }
    public KafkaBrokerException(string message, Exception inner) : base(message, inner) { }
}
