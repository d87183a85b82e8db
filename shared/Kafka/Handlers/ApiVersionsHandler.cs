using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // ApiVersions: the API keys and version ranges we answer (supported versions are negotiated
    // per connection by the client from this list).
    private static ApiVersionsResponse HandleApiVersions(KafkaRequestContext context, ApiVersionsRequest request) =>
        new() { ErrorCode = 0, ApiKeys = SupportedApis.ToResponse() };
}
