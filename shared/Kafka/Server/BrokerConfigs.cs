using System.Globalization;
using EdgeStream.Metadata;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

/// <summary>One broker config as DescribeConfigs shows it.</summary>
internal readonly record struct BrokerConfigEntry(string Name, string? Value, sbyte Source, bool IsSensitive, ConfigValueType Type, string Documentation);

public sealed partial class KafkaBroker
{
    private const string UnusedBrokerConfig = "Kafka's broker config at Kafka's default; EdgeStream does not use it.";

    /// <summary>
    /// Every documented Kafka broker config (<see cref="KafkaConfigDefinitions.Broker"/>): the value this
    /// node applies where EdgeStream has the setting, else Kafka's default. The source is
    /// STATIC_BROKER_CONFIG when the node was started with a value other than EdgeStream's built-in
    /// one, else DEFAULT_CONFIG; password configs are sensitive and shown without a value, as Kafka does.
    /// </summary>
    internal List<BrokerConfigEntry> BrokerConfigs()
    {
        var applied = AppliedBrokerConfigs();
        var entries = new List<BrokerConfigEntry>(KafkaConfigDefinitions.Broker.Count);
        foreach (var kafka in KafkaConfigDefinitions.Broker)
        {
            if (applied.TryGetValue(kafka.Name, out var own))
                entries.Add(new(kafka.Name, own.Value, own.Value == own.BuiltIn ? SourceDefaultConfig : SourceStaticBrokerConfig, false, kafka.Type, own.Doc));
            else
                entries.Add(new(kafka.Name, kafka.IsSensitive ? null : kafka.Default, SourceDefaultConfig, kafka.IsSensitive, kafka.Type, UnusedBrokerConfig));
        }
        return entries;
    }

    /// <summary>The broker configs EdgeStream has a setting for: (value in force, EdgeStream's built-in value, documentation).</summary>
    private Dictionary<string, (string Value, string BuiltIn, string Doc)> AppliedBrokerConfigs()
    {
        var defaults = Catalog.Defaults;
        var builtInDefaults = new TopicDefaults();
        var topic = Log.Options.DefaultTopicConfig;
        var builtInTopic = TopicConfig.Default;
        var builtInOptions = new KafkaBrokerOptions();
        static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string Bool(bool v) => v ? "true" : "false";
        static string RetentionMs(TopicConfig c) => c.RetentionAge is { } age ? Num((long)age.TotalMilliseconds) : "-1";
        static string RetentionHours(TopicConfig c) => c.RetentionAge is { } age ? Num((long)age.TotalHours) : "-1";
        static string RollHours(TopicConfig c) => Num((long)c.SegmentAge.TotalHours);
        var brokerId = Num(Options.BrokerId);
        return new(StringComparer.Ordinal)
        {
            ["auto.create.topics.enable"] = (Bool(defaults.AutoCreate), Bool(builtInDefaults.AutoCreate), "Whether producing to or asking metadata for an unknown topic creates it."),
            ["broker.id"] = (brokerId, Num(builtInOptions.BrokerId), "The id of this node in metadata (--kafka-broker-id)."),
            ["node.id"] = (brokerId, Num(builtInOptions.BrokerId), "The id of this node in metadata (--kafka-broker-id)."),
            ["default.replication.factor"] = ("1", "1", "Replicas per partition; an EdgeStream node keeps one."),
            ["offsets.topic.replication.factor"] = ("1", "1", "Committed offsets are kept on this node only."),
            ["process.roles"] = ("broker,controller", "broker,controller", "A single EdgeStream node is its own broker and controller."),
            ["log.cleanup.policy"] = (topic.CleanupPolicy, builtInTopic.CleanupPolicy, "Default cleanup.policy of topics."),
            ["log.dir"] = (Log.Options.LogDirectory, Log.Options.LogDirectory, "Where the log is stored."),
            ["log.dirs"] = (Log.Options.LogDirectory, Log.Options.LogDirectory, "Where the log is stored."),
            ["log.index.interval.bytes"] = (Num(topic.IndexIntervalBytes), Num(builtInTopic.IndexIntervalBytes), "Default index.interval.bytes of topics."),
            ["log.message.timestamp.type"] = (topic.UseLogAppendTime ? "LogAppendTime" : "CreateTime", builtInTopic.UseLogAppendTime ? "LogAppendTime" : "CreateTime", "Default message.timestamp.type of topics."),
            ["log.retention.bytes"] = (Num(topic.RetentionBytes), Num(builtInTopic.RetentionBytes), "Default retention.bytes of topics."),
            ["log.retention.ms"] = (RetentionMs(topic), RetentionMs(builtInTopic), "Default retention.ms of topics."),
            ["log.retention.hours"] = (RetentionHours(topic), RetentionHours(builtInTopic), "Default retention of topics in whole hours (log.retention.ms is exact)."),
            ["log.roll.ms"] = (Num((long)topic.SegmentAge.TotalMilliseconds), Num((long)builtInTopic.SegmentAge.TotalMilliseconds), "Default segment.ms of topics."),
            ["log.roll.hours"] = (RollHours(topic), RollHours(builtInTopic), "Default segment.ms of topics in whole hours (log.roll.ms is exact)."),
            ["log.segment.bytes"] = (Num(topic.SegmentBytes), Num(builtInTopic.SegmentBytes), "Default segment.bytes of topics."),
            ["message.max.bytes"] = (Num(topic.MaxMessageBytes), Num(builtInTopic.MaxMessageBytes), "Default max.message.bytes of topics."),
            ["num.partitions"] = (Num(defaults.Partitions), Num(builtInDefaults.Partitions), "Partitions of auto-created topics and of CreateTopics with -1."),
            ["socket.request.max.bytes"] = (Num(Options.MaxRequestBytes), Num(builtInOptions.MaxRequestBytes), "Requests larger than this close the connection."),
            ["max.incremental.fetch.session.cache.slots"] = (Num(Options.FetchSessionCacheSlots), Num(builtInOptions.FetchSessionCacheSlots), "Incremental fetch sessions (KIP-227) kept at once."),
        };
    }
}
