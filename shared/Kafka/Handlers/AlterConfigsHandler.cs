using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AlterConfigs (KIP-133): the configs given become the topic's complete set of overrides;
    // every key left out returns to its default. The set is validated as a whole and changes
    // nothing when invalid (INVALID_CONFIG with the reason) or when validateOnly. Broker settings
    // are fixed at start-up, so a broker resource is refused.
    private AlterConfigsResponse HandleAlterConfigs(KafkaRequestContext context, AlterConfigsRequest request)
    {
        var response = new AlterConfigsResponse();
        var duplicates = DuplicateResources(request.Resources, r => (r.ResourceType, r.ResourceName));
        foreach (var resource in request.Resources)
        {
            var result = new AlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorMessage = null,
            };
            response.Responses.Add(result);
            var (code, message) = duplicates.Contains((resource.ResourceType, resource.ResourceName))
                ? (KafkaErrorCode.InvalidRequest, $"Resource '{resource.ResourceName}' appears more than once in the request.")
                : ReplaceConfigs(context, resource, request.ValidateOnly);
            result.ErrorCode = (short)code;
            result.ErrorMessage = message;
        }
        return response;
    }

    private (KafkaErrorCode Code, string? Message) ReplaceConfigs(KafkaRequestContext context, AlterConfigsRequest.AlterConfigsResource resource, bool validateOnly)
    {
        if (CheckAlterableTopic(resource.ResourceType, resource.ResourceName) is { } refused) return refused;
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

    /// <summary>Null when the resource is an existing topic; otherwise the error to answer with.</summary>
    private (KafkaErrorCode, string?)? CheckAlterableTopic(sbyte resourceType, string name)
    {
        switch (resourceType)
        {
            case ResourceTypeTopic:
                if (!LogManager.IsValidTopicName(name))
                    return (KafkaErrorCode.InvalidTopicException, $"'{name}' is not a valid topic name.");
                if (!Catalog.TryGet(name, out _))
                    return (KafkaErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
                return null;
            case ResourceTypeBroker:
                return (KafkaErrorCode.InvalidRequest, "Broker configs cannot be changed at runtime; set them on the command line or in the config file and restart the node.");
            default:
                return (KafkaErrorCode.InvalidRequest, $"Resource type {resourceType} is not supported; alter a topic (2).");
        }
    }

    /// <summary>Runs the change through the catalog (meta.db and the live topic together).</summary>
    private (KafkaErrorCode, string?) AlterTopicConfig(KafkaRequestContext context, string name, Dictionary<string, string?> changes, bool incremental, bool validateOnly)
    {
        try
        {
            Catalog.AlterConfig(name, changes, incremental, validateOnly);
            return (KafkaErrorCode.None, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var (code, message) = AdminFailure(context, ex);
            return ((KafkaErrorCode)code, message);
        }
    }

    private static HashSet<(sbyte, string)> DuplicateResources<T>(List<T> resources, Func<T, (sbyte, string)> key)
    {
        var seen = new HashSet<(sbyte, string)>();
        var duplicates = new HashSet<(sbyte, string)>();
        foreach (var r in resources)
            if (!seen.Add(key(r))) duplicates.Add(key(r));
        return duplicates;
    }
}
