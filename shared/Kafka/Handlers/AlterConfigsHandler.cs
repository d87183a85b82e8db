using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AlterConfigs (KIP-133): the configs given become the topic's complete set of overrides;
    // every key left out returns to its default. The set is validated as a whole and changes
    // nothing when invalid (INVALID_CONFIG with the reason) or when validateOnly. Broker settings
    // are fixed at start-up, so a broker resource is refused.
    private AlterConfigsResponse HandleAlterConfigs(KafkaRequestContext context, AlterConfigsRequest request) => new()
    {
        Responses = AlterEachResource(request.Resources, r => (r.ResourceType, r.ResourceName), r => ReplaceConfigs(context, r, request.ValidateOnly),
            (type, name, code, message) => new AlterConfigsResponse.AlterConfigsResourceResponse { ResourceType = type, ResourceName = name, ErrorCode = (short)code, ErrorMessage = message }),
    };

    private (KafkaErrorCode Code, string? Message) ReplaceConfigs(KafkaRequestContext context, AlterConfigsRequest.AlterConfigsResource resource, bool validateOnly)
    {
        if (CheckAlterableTopic(context, resource.ResourceType, resource.ResourceName) is { } refused) return refused;
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var config in resource.Configs)
        {
            if (config.Value is null)
                return (KafkaErrorCode.InvalidRequest, $"Null value not supported for '{config.Name}'; leave a key out to return it to its default.");
            if (!changes.TryAdd(config.Name, config.Value))
                return (KafkaErrorCode.InvalidRequest, $"Config '{config.Name}' appears more than once.");
        }
        return AlterTopicConfig(context, resource.ResourceName, changes, incremental: false, validateOnly);
    }
}
