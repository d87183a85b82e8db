using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;
using EdgeStream.Metadata;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

/// <summary>What the admin handlers share: resource types, config sources, failure mapping and the config-altering steps.</summary>
public sealed partial class KafkaBroker
{
    // ConfigResource.Type in the Kafka protocol (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs).
    private const sbyte ResourceTypeTopic = 2;
    private const sbyte ResourceTypeBroker = 4;

    // DescribeConfigsResponse ConfigSource values (KIP-226).
    private const sbyte SourceTopicConfig = 1;
    private const sbyte SourceStaticBrokerConfig = 4;
    private const sbyte SourceDefaultConfig = 5;

    /// <summary>The largest partition count a topic may have; the catalog refuses more.</summary>
    private const int MaxPartitions = 10_000;

    /// <summary>
    /// Turns a failure of one item of an admin request (one topic, one resource) into its error
    /// code and message, so the other items and the connection carry on. Failures that are not
    /// ours on purpose are logged: they are bugs or I/O trouble worth seeing.
    /// </summary>
    private (short Code, string Message) AdminFailure(KafkaRequestContext context, Exception ex)
    {
        if (ex is not EdgeStreamException)
            KafkaLog.RequestFailed(_logger, ex, context.Header.ApiKey, context.Version);
        return ((short)ErrorFor(ex), ex.Message);
    }

    /// <summary>
    /// A topic's configuration as Kafka tools show it: every implemented key with its effective
    /// value, then every accepted-only key of Kafka's documented set with the topic's override or
    /// Kafka's default. <c>IsOverride</c> marks TOPIC_CONFIG.
    /// </summary>
    private static List<(string Key, string Value, bool IsOverride)> TopicConfigEntries(TopicConfig effective, IReadOnlyDictionary<string, string> overrides)
    {
        var entries = new List<(string, string, bool)>(TopicConfigKeys.Implemented.Count + AcceptedTopicConfigs.All.Count);
        foreach (var (key, value) in TopicConfigKeys.Describe(effective))
            entries.Add((key, value, overrides.ContainsKey(key)));
        foreach (var accepted in AcceptedTopicConfigs.All)
            entries.Add(overrides.TryGetValue(accepted.Name, out var value) ? (accepted.Name, value, true) : (accepted.Name, accepted.Default ?? "", false));
        return entries;
    }

    /// <summary>
    /// The per-resource loop AlterConfigs and IncrementalAlterConfigs share: a resource named more than
    /// once in the request is INVALID_REQUEST each time; any other is handed to <paramref name="alter"/>.
    /// Answers in request order, built by <paramref name="answer"/> in the API's response type.
    /// </summary>
    private static List<TAnswer> AlterEachResource<TResource, TAnswer>(List<TResource> resources, Func<TResource, (sbyte Type, string Name)> key,
        Func<TResource, (KafkaErrorCode Code, string? Message)> alter, Func<sbyte, string, KafkaErrorCode, string?, TAnswer> answer)
    {
        var seen = new HashSet<(sbyte, string)>();
        var duplicates = new HashSet<(sbyte, string)>();
        foreach (var r in resources)
            if (!seen.Add(key(r))) duplicates.Add(key(r));
        var answers = new List<TAnswer>(resources.Count);
        foreach (var resource in resources)
        {
            var (type, name) = key(resource);
            var (code, message) = duplicates.Contains((type, name))
                ? (KafkaErrorCode.InvalidRequest, $"Resource '{name}' appears more than once in the request.")
                : alter(resource);
            answers.Add(answer(type, name, code, message));
        }
        return answers;
    }

    /// <summary>Null when the resource is an existing topic; otherwise the error to answer with.</summary>
    private (KafkaErrorCode, string?)? CheckAlterableTopic(KafkaRequestContext context, sbyte resourceType, string name)
    {
        switch (resourceType)
        {
            case ResourceTypeTopic:
                if (!Authorized(context, AclOperation.AlterConfigs, AclResourceType.Topic, name))
                    return (KafkaErrorCode.TopicAuthorizationFailed, $"AlterConfigs on topic '{name}' is needed.");
                if (!LogManager.IsValidTopicName(name))
                    return (KafkaErrorCode.InvalidTopicException, $"'{name}' is not a valid topic name.");
                if (!Catalog.TryGet(name, out _))
                    return (KafkaErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
                return null;
            case ResourceTypeBroker:
                if (!AuthorizedOnCluster(context, AclOperation.AlterConfigs))
                    return (KafkaErrorCode.ClusterAuthorizationFailed, "AlterConfigs on the cluster is needed.");
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
}
