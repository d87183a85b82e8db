namespace EdgeStream.Kafka.Server;

/// <summary>A request for an API or version this broker does not answer: Kafka closes the connection.</summary>
public sealed class UnsupportedApiException : KafkaBrokerException
{
    public UnsupportedApiException(short apiKey, short apiVersion)
        : base($"API key {apiKey} version {apiVersion} is not supported")
    {
        ApiKey = apiKey;
        ApiVersion = apiVersion;
    }

    public short ApiKey { get; }
    public short ApiVersion { get; }
}
