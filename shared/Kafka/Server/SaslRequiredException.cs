namespace EdgeStream.Kafka.Server;

/// <summary>
/// A request other than ApiVersions, SaslHandshake or SaslAuthenticate on a connection that has not
/// authenticated, when the listener requires SASL: Kafka closes such a connection unanswered.
/// </summary>
public sealed class SaslRequiredException : KafkaBrokerException
{
    public SaslRequiredException(short apiKey)
        : base($"API key {apiKey} before SASL authentication")
    {
        ApiKey = apiKey;
    }

    public short ApiKey { get; }
}
