using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Metadata;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AlterConfigOp.OpType in IncrementalAlterConfigs (KIP-339).
    private const sbyte OpSet = 0;
    private const sbyte OpDelete = 1;
    private const sbyte OpAppend = 2;
    private const sbyte OpSubtract = 3;

    // IncrementalAlterConfigs (KIP-339): edits a topic's overrides key by key, leaving the others
    // alone. SET overrides a key, DELETE returns it to its default, APPEND and SUBTRACT add or
    // remove items of a list-valued key (cleanup.policy). All edits of a resource are validated
    // together and applied together or not at all; validateOnly applies nothing.
    private IncrementalAlterConfigsResponse HandleIncrementalAlterConfigs(KafkaRequestContext context, IncrementalAlterConfigsRequest request) => new()
    {
        Responses = AlterEachResource(request.Resources, r => (r.ResourceType, r.ResourceName), r => EditConfigs(context, r, request.ValidateOnly),
            (type, name, code, message) => new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse { ResourceType = type, ResourceName = name, ErrorCode = (short)code, ErrorMessage = message }),
    };

    private (KafkaErrorCode Code, string? Message) EditConfigs(KafkaRequestContext context, IncrementalAlterConfigsRequest.AlterConfigsResource resource, bool validateOnly)
    {
        if (CheckAlterableTopic(context, resource.ResourceType, resource.ResourceName) is { } refused) return refused;
        var name = resource.ResourceName;
        var catalog = Catalog;
        var overrides = catalog.Overrides(name);
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var config in resource.Configs)
        {
            if (changes.ContainsKey(config.Name))
                return (KafkaErrorCode.InvalidRequest, $"Config '{config.Name}' appears more than once.");
            if (config.ConfigOperation != OpDelete && config.Value is null)
                return (KafkaErrorCode.InvalidRequest, $"Null value not supported for '{config.Name}'.");
            switch (config.ConfigOperation)
            {
                case OpSet:
                    changes[config.Name] = config.Value;
                    break;
                case OpDelete:
                    changes[config.Name] = null;
                    break;
                case OpAppend or OpSubtract:
                    // Kafka's code and wording (tools match on them).
                    if (!IsListKey(config.Name))
                        return (KafkaErrorCode.InvalidRequest, $"Config value {(config.ConfigOperation == OpAppend ? "append" : "subtract")} is not allowed for config key: {config.Name}");
                    // The list edited is the value in force: the override, else the default.
                    var current = overrides.TryGetValue(config.Name, out var o) ? o : DefaultValue(config.Name);
                    changes[config.Name] = EditList(current, config.Value!, config.ConfigOperation == OpAppend);
                    break;
                default:
                    return (KafkaErrorCode.InvalidRequest, $"Unknown config operation {config.ConfigOperation} for '{config.Name}'.");
            }
        }
        // The catalog re-reads the overrides under its lock; an APPEND racing another change of
        // the same list may lose that change, as in Kafka, where the last writer wins.
        return AlterTopicConfig(context, name, changes, incremental: true, validateOnly);
    }

    private static bool IsListKey(string key) =>
        KafkaConfigDefinitions.TryGetTopic(key, out var kafka) && kafka.Type == ConfigValueType.List;

    private string DefaultValue(string key)
    {
        foreach (var (k, v) in TopicConfigKeys.Describe(Log.Options.DefaultTopicConfig))
            if (k == key) return v;
        return AcceptedTopicConfigs.TryGet(key, out var accepted) ? accepted.Default ?? "" : "";
    }

    /// <summary>Adds (keeping order, no duplicates) or removes the comma-separated items of <paramref name="items"/>.</summary>
    private static string EditList(string current, string items, bool append)
    {
        var list = new List<string>();
        foreach (var item in current.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (!list.Contains(item)) list.Add(item);
        foreach (var item in items.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (append) { if (!list.Contains(item)) list.Add(item); }
            else list.Remove(item);
        }
        return string.Join(',', list);
    }
}
