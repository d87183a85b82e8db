namespace EdgeStream.Kafka.Client;

/// <summary>
/// A Kafka client operation failed: the broker could not be reached, closed the connection, timed
/// out, or answered with an error code. The message says what failed and names the broker, topic or
/// partition; <see cref="ErrorCode"/> carries the Kafka error code when the broker sent one.
/// </summary>
public sealed class KafkaClientException : EdgeStreamException
{
    public KafkaClientException(string message, short errorCode = 0) : base(message) => ErrorCode = errorCode;
    public KafkaClientException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The Kafka error code behind this failure, 0 when it was not a broker error.</summary>
    public short ErrorCode { get; }

    /// <summary>"broker returned TOPIC_ALREADY_EXISTS for 'x'" (plus the broker's message when it sent one).</summary>
    public static KafkaClientException FromBroker(short errorCode, string subject, string? brokerMessage = null)
    {
        var text = $"broker returned {KafkaErrors.Name(errorCode)} for {subject}";
        if (!string.IsNullOrWhiteSpace(brokerMessage)) text += $": {brokerMessage}";
        return new KafkaClientException(text, errorCode);
    }
}
