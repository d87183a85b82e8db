using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Metadata;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

/// <summary>What the admin handlers share: resource types, config sources and failure mapping.</summary>
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
    /// value, then the accepted-only keys the topic overrides. <c>IsOverride</c> marks TOPIC_CONFIG.
    /// </summary>
    private static List<(string Key, string Value, bool IsOverride)> TopicConfigEntries(TopicConfig effective, IReadOnlyDictionary<string, string> overrides)
    {
        var entries = new List<(string, string, bool)>(TopicConfigKeys.Implemented.Count + overrides.Count);
        foreach (var (key, value) in TopicConfigKeys.Describe(effective))
            entries.Add((key, value, overrides.ContainsKey(key)));
        foreach (var (key, value) in overrides.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (TopicConfigKeys.AcceptedOnly.Contains(key))
                entries.Add((key, value, true));
        return entries;
    }
}
