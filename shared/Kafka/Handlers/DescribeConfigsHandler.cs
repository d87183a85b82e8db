using System.Globalization;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Metadata;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // ConfigEntry.ConfigType (KIP-569, DescribeConfigs v3+).
    private const sbyte ConfigTypeBoolean = (sbyte)ConfigValueType.Boolean;
    private const sbyte ConfigTypeString = (sbyte)ConfigValueType.String;
    private const sbyte ConfigTypeInt = (sbyte)ConfigValueType.Int;
    private const sbyte ConfigTypeLong = (sbyte)ConfigValueType.Long;
    private const sbyte ConfigTypeList = (sbyte)ConfigValueType.List;

    // DescribeConfigs (KIP-133; synonyms and sources KIP-226, types and documentation KIP-569).
    // TOPIC: every implemented key with its effective value; the source is TOPIC_CONFIG for an
    // explicit override of the topic and DEFAULT_CONFIG otherwise (v0 says isDefault instead).
    // BROKER (this broker's id or an empty name): the node settings topics inherit, read-only.
    // ConfigurationKeys null means all keys; a named key we do not have is left out, as Kafka does.
    private DescribeConfigsResponse HandleDescribeConfigs(KafkaRequestContext context, DescribeConfigsRequest request)
    {
        var response = new DescribeConfigsResponse();
        var version = context.Version;
        var synonyms = version >= 1 && request.IncludeSynonyms;
        var documentation = version >= 3 && request.IncludeDocumentation;
        foreach (var resource in request.Resources)
        {
            var result = new DescribeConfigsResponse.DescribeConfigsResult
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorMessage = null,
            };
            response.Results.Add(result);
            var keys = resource.ConfigurationKeys is null ? null : new HashSet<string>(resource.ConfigurationKeys, StringComparer.Ordinal);
            try
            {
                switch (resource.ResourceType)
                {
                    case ResourceTypeTopic:
                        DescribeTopicConfigs(resource.ResourceName, keys, synonyms, documentation, result);
                        break;
                    case ResourceTypeBroker:
                        DescribeBrokerConfigs(resource.ResourceName, keys, synonyms, documentation, result);
                        break;
                    default:
                        result.ErrorCode = (short)KafkaErrorCode.InvalidRequest;
                        result.ErrorMessage = $"Resource type {resource.ResourceType} is not supported; describe a topic (2) or broker {Options.BrokerId} (4).";
                        break;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                var (code, message) = AdminFailure(context, ex);
                result.ErrorCode = code;
                result.ErrorMessage = message;
                result.Configs.Clear();
            }
        }
        return response;
    }

    private void DescribeTopicConfigs(string name, HashSet<string>? keys, bool synonyms, bool documentation, DescribeConfigsResponse.DescribeConfigsResult result)
    {
        if (!LogManager.IsValidTopicName(name))
        {
            result.ErrorCode = (short)KafkaErrorCode.InvalidTopicException;
            result.ErrorMessage = $"'{name}' is not a valid topic name.";
            return;
        }
        var catalog = Catalog;
        if (!catalog.TryGet(name, out var topic))
        {
            result.ErrorCode = (short)KafkaErrorCode.UnknownTopicOrPartition;
            result.ErrorMessage = $"Topic '{name}' does not exist.";
            return;
        }
        var overrides = catalog.Overrides(name);
        var defaults = TopicConfigKeys.Describe(Log.Options.DefaultTopicConfig).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        foreach (var (key, value, isOverride) in TopicConfigEntries(topic!.Config, overrides))
        {
            if (keys is not null && !keys.Contains(key)) continue;
            var entry = new DescribeConfigsResponse.DescribeConfigsResourceResult
            {
                Name = key,
                Value = value,
                ReadOnly = false,
                IsDefaultValue = !isOverride,
                ConfigSource = isOverride ? SourceTopicConfig : SourceDefaultConfig,
                IsSensitive = false,
                ConfigType = TopicConfigType(key),
                Documentation = documentation ? TopicConfigDocumentation(key) : null,
            };
            if (synonyms)
            {
                // Kafka lists the synonyms in precedence order: the topic override, then the
                // broker-wide setting it would otherwise inherit.
                if (isOverride)
                    entry.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = key, Value = overrides[key], Source = SourceTopicConfig });
                if (BrokerSynonym(key) is { } brokerKey && defaults.TryGetValue(key, out var inherited))
                    entry.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = brokerKey, Value = inherited, Source = SourceDefaultConfig });
                else if (AcceptedTopicConfigs.TryGet(key, out var accepted) && accepted.BrokerSynonym is { } acceptedBrokerKey)
                    entry.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = acceptedBrokerKey, Value = accepted.Default, Source = SourceDefaultConfig });
            }
            result.Configs.Add(entry);
        }
    }

    private void DescribeBrokerConfigs(string name, HashSet<string>? keys, bool synonyms, bool documentation, DescribeConfigsResponse.DescribeConfigsResult result)
    {
        var self = Options.BrokerId.ToString(CultureInfo.InvariantCulture);
        if (name.Length > 0 && name != self)
        {
            result.ErrorCode = (short)KafkaErrorCode.InvalidRequest;
            result.ErrorMessage = $"Broker '{name}' is not this node; this node is broker {self}.";
            return;
        }
        foreach (var (key, value, builtIn, type, doc) in BrokerConfigs())
        {
            if (keys is not null && !keys.Contains(key)) continue;
            // A value that differs from the built-in default came from the command line or config file.
            var source = value == builtIn ? SourceDefaultConfig : SourceStaticBrokerConfig;
            var entry = new DescribeConfigsResponse.DescribeConfigsResourceResult
            {
                Name = key,
                Value = value,
                ReadOnly = true,
                IsDefaultValue = source == SourceDefaultConfig,
                ConfigSource = source,
                IsSensitive = false,
                ConfigType = type,
                Documentation = documentation ? doc : null,
            };
            if (synonyms)
                entry.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = key, Value = value, Source = source });
            result.Configs.Add(entry);
        }
    }

    /// <summary>The node settings a broker resource shows: (key, value, built-in default, type, documentation).</summary>
    private List<(string Key, string Value, string BuiltIn, sbyte Type, string Doc)> BrokerConfigs()
    {
        var defaults = Catalog.Defaults;
        var builtInDefaults = new TopicDefaults();
        var topic = Log.Options.DefaultTopicConfig;
        var builtInTopic = TopicConfig.Default;
        static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string Bool(bool v) => v ? "true" : "false";
        static string RetentionMs(TopicConfig c) => c.RetentionAge is { } age ? Num((long)age.TotalMilliseconds) : "-1";
        return
        [
            ("auto.create.topics.enable", Bool(defaults.AutoCreate), Bool(builtInDefaults.AutoCreate), ConfigTypeBoolean, "Whether producing to or asking metadata for an unknown topic creates it."),
            ("broker.id", Num(Options.BrokerId), "1", ConfigTypeInt, "The id of this node in metadata."),
            ("default.replication.factor", "1", "1", ConfigTypeInt, "Replicas per partition; an EdgeStream node keeps one."),
            ("log.cleanup.policy", topic.CleanupPolicy, builtInTopic.CleanupPolicy, ConfigTypeList, "Default cleanup.policy of topics."),
            ("log.dirs", Log.Options.LogDirectory, Log.Options.LogDirectory, ConfigTypeString, "Where the log is stored."),
            ("log.retention.bytes", Num(topic.RetentionBytes), Num(builtInTopic.RetentionBytes), ConfigTypeLong, "Default retention.bytes of topics."),
            ("log.retention.ms", RetentionMs(topic), RetentionMs(builtInTopic), ConfigTypeLong, "Default retention.ms of topics."),
            ("log.roll.ms", Num((long)topic.SegmentAge.TotalMilliseconds), Num((long)builtInTopic.SegmentAge.TotalMilliseconds), ConfigTypeLong, "Default segment.ms of topics."),
            ("log.segment.bytes", Num(topic.SegmentBytes), Num(builtInTopic.SegmentBytes), ConfigTypeInt, "Default segment.bytes of topics."),
            ("message.max.bytes", Num(topic.MaxMessageBytes), Num(builtInTopic.MaxMessageBytes), ConfigTypeInt, "Default max.message.bytes of topics."),
            ("num.partitions", Num(defaults.Partitions), Num(builtInDefaults.Partitions), ConfigTypeInt, "Partitions of auto-created topics and of CreateTopics with -1."),
            .. AcceptedBrokerConfigs(),
        ];
    }

    /// <summary>The broker settings Kafka's accepted-only topic keys inherit from, at Kafka's defaults (read-only here).</summary>
    private static IEnumerable<(string Key, string Value, string BuiltIn, sbyte Type, string Doc)> AcceptedBrokerConfigs()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in AcceptedTopicConfigs.All)
            if (c.BrokerSynonym is { } key && seen.Add(key))
                yield return (key, c.Default, c.Default, (sbyte)c.Type, $"Broker default of the topic config {c.Key}. {c.Documentation}");
    }

    /// <summary>The broker-wide setting a topic key falls back to (Kafka's synonym).</summary>
    private static string? BrokerSynonym(string key) => key switch
    {
        TopicConfigKeys.CleanupPolicy => "log.cleanup.policy",
        TopicConfigKeys.IndexIntervalBytes => "log.index.interval.bytes",
        TopicConfigKeys.MaxMessageBytes => "message.max.bytes",
        TopicConfigKeys.TimestampType => "log.message.timestamp.type",
        TopicConfigKeys.RetentionBytes => "log.retention.bytes",
        TopicConfigKeys.RetentionMs => "log.retention.ms",
        TopicConfigKeys.SegmentBytes => "log.segment.bytes",
        TopicConfigKeys.SegmentMs => "log.roll.ms",
        _ => null,
    };

    private static sbyte TopicConfigType(string key) => key switch
    {
        TopicConfigKeys.CleanupPolicy => ConfigTypeList,
        TopicConfigKeys.IndexIntervalBytes or TopicConfigKeys.MaxMessageBytes or TopicConfigKeys.SegmentBytes => ConfigTypeInt,
        TopicConfigKeys.RetentionBytes or TopicConfigKeys.RetentionMs or TopicConfigKeys.SegmentMs => ConfigTypeLong,
        TopicConfigKeys.TimestampType => ConfigTypeString,
        _ => AcceptedTopicConfigs.TryGet(key, out var accepted) ? (sbyte)accepted.Type : (sbyte)0,
    };

    private static string? TopicConfigDocumentation(string key) => key switch
    {
        TopicConfigKeys.CleanupPolicy => "How old segments are removed; only 'delete' is supported.",
        TopicConfigKeys.IndexIntervalBytes => "Log bytes between two sparse offset index entries.",
        TopicConfigKeys.MaxMessageBytes => "The largest record batch the topic accepts.",
        TopicConfigKeys.TimestampType => "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches on append.",
        TopicConfigKeys.RetentionBytes => "Per partition: delete the oldest closed segments beyond this size; -1 keeps everything.",
        TopicConfigKeys.RetentionMs => "Delete closed segments whose newest record is older than this; -1 keeps forever.",
        TopicConfigKeys.SegmentBytes => "Roll to a new segment past this size.",
        TopicConfigKeys.SegmentMs => "Roll a non-empty segment older than this.",
        _ => AcceptedTopicConfigs.TryGet(key, out var accepted) ? accepted.Documentation : "Accepted for compatibility; has no effect on a single-replica log.",
    };
}
