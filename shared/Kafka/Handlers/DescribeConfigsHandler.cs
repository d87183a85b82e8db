using System.Globalization;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;
using EdgeStream.Metadata;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DescribeConfigs (KIP-133; synonyms and sources KIP-226, types and documentation KIP-569).
    // TOPIC: every implemented key with its effective value; the source is TOPIC_CONFIG for an
    // explicit override of the topic and DEFAULT_CONFIG otherwise (v0 says isDefault instead).
    // BROKER (this broker's id or an empty name): every documented broker config, read-only (see BrokerConfigs).
    // ConfigurationKeys null means all keys; a named key we do not have is left out, as Kafka does.
    // With ACLs: DescribeConfigs on the topic (TOPIC_AUTHORIZATION_FAILED) or the cluster (CLUSTER_AUTHORIZATION_FAILED).
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
                    case ResourceTypeTopic when !Authorized(context, AclOperation.DescribeConfigs, AclResourceType.Topic, resource.ResourceName):
                        result.ErrorCode = (short)KafkaErrorCode.TopicAuthorizationFailed;
                        result.ErrorMessage = $"DescribeConfigs on topic '{resource.ResourceName}' is needed.";
                        break;
                    case ResourceTypeBroker when !AuthorizedOnCluster(context, AclOperation.DescribeConfigs):
                        result.ErrorCode = (short)KafkaErrorCode.ClusterAuthorizationFailed;
                        result.ErrorMessage = "DescribeConfigs on the cluster is needed.";
                        break;
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
                // broker-wide setting it would otherwise inherit (the node default EdgeStream applies, or Kafka's).
                if (isOverride)
                    entry.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = key, Value = overrides[key], Source = SourceTopicConfig });
                if (KafkaConfigDefinitions.TryGetTopic(key, out var kafka) && kafka.BrokerSynonym is { } brokerKey)
                    entry.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym
                    {
                        Name = brokerKey,
                        Value = defaults.TryGetValue(key, out var inherited) ? inherited : kafka.Default,
                        Source = SourceDefaultConfig,
                    });
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
        foreach (var config in BrokerConfigs())
        {
            if (keys is not null && !keys.Contains(config.Name)) continue;
            // Broker settings are fixed at start-up (AlterConfigs refuses them), hence read-only.
            var entry = new DescribeConfigsResponse.DescribeConfigsResourceResult
            {
                Name = config.Name,
                Value = config.Value,
                ReadOnly = true,
                IsDefaultValue = config.Source == SourceDefaultConfig,
                ConfigSource = config.Source,
                IsSensitive = config.IsSensitive,
                ConfigType = (sbyte)config.Type,
                Documentation = documentation ? config.Documentation : null,
            };
            if (synonyms)
                entry.Synonyms.Add(new DescribeConfigsResponse.DescribeConfigsSynonym { Name = config.Name, Value = config.Value, Source = config.Source });
            result.Configs.Add(entry);
        }
    }

    private static sbyte TopicConfigType(string key) => key switch
    {
        // ConfigEntry.ConfigType (KIP-569, DescribeConfigs v3+); EdgeStream's own keys are not in Kafka's table.
        TopicConfigKeys.DiskFullPolicy => (sbyte)ConfigValueType.String,
        TopicConfigKeys.UplinkPriority => (sbyte)ConfigValueType.Int,
        _ => KafkaConfigDefinitions.TryGetTopic(key, out var kafka) ? (sbyte)kafka.Type : (sbyte)ConfigValueType.Unknown,
    };

    private static string? TopicConfigDocumentation(string key) => key switch
    {
        TopicConfigKeys.CleanupPolicy => "How old segments are removed; only 'delete' is supported.",
        TopicConfigKeys.DiskFullPolicy => "EdgeStream's own: what an append does when the node's disk budget is full (block or drop-oldest).",
        TopicConfigKeys.IndexIntervalBytes => "Log bytes between two sparse offset index entries.",
        TopicConfigKeys.MaxMessageBytes => "The largest record batch the topic accepts.",
        TopicConfigKeys.TimestampType => "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches on append.",
        TopicConfigKeys.RetentionBytes => "Per partition: delete the oldest closed segments beyond this size; -1 keeps everything.",
        TopicConfigKeys.RetentionMs => "Delete closed segments whose newest record is older than this; -1 keeps forever.",
        TopicConfigKeys.SegmentBytes => "Roll to a new segment past this size.",
        TopicConfigKeys.SegmentMs => "Roll a non-empty segment older than this.",
        TopicConfigKeys.UplinkPriority => "EdgeStream's own: higher-priority topics drain upstream first.",
        _ => "Kafka's topic config, accepted, validated and kept for Kafka tools; no effect on a single-replica EdgeStream log.",
    };
}
