using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;
using EdgeStream.Metadata;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // CreateTopics (KIP-4, KIP-464 for -1 defaults): each topic is validated on its own and gets
    // its own error; numPartitions/replicationFactor -1 mean the broker default. One replica on
    // this node is all a single node can hold, so replication factor 1 (or -1) and manual
    // assignments naming only this broker are accepted. validateOnly checks everything and
    // creates nothing. v5+ returns the resulting partition count, replication factor and configs.
    // With ACLs: Create on the cluster or on the topic, else TOPIC_AUTHORIZATION_FAILED; the
    // configs of a created topic are shown only with DescribeConfigs on it, else its config error
    // is TOPIC_AUTHORIZATION_FAILED, as Kafka answers (Create alone must not reveal them).
    private CreateTopicsResponse HandleCreateTopics(KafkaRequestContext context, CreateTopicsRequest request)
    {
        var response = new CreateTopicsResponse();
        var validateOnly = context.Version >= 1 && request.validateOnly;
        // Kafka answers every entry of a name that appears twice with INVALID_REQUEST.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var topic in request.Topics)
            if (!seen.Add(topic.Name)) duplicates.Add(topic.Name);

        foreach (var topic in request.Topics)
        {
            var result = new CreateTopicsResponse.CreatableTopicResult { Name = topic.Name, ErrorMessage = null };
            response.Topics.Add(result);
            if (duplicates.Contains(topic.Name))
            {
                Fail(result, KafkaErrorCode.InvalidRequest, $"Topic '{topic.Name}' appears more than once in the request.");
                continue;
            }
            if (!Authorized(context, AclOperation.Create, AclResourceType.Cluster, AclBinding.ClusterName, audit: false)
                && !Authorized(context, AclOperation.Create, AclResourceType.Topic, topic.Name))
            {
                Fail(result, KafkaErrorCode.TopicAuthorizationFailed, $"Create on topic '{topic.Name}' (or on the cluster) is needed.");
                continue;
            }
            try
            {
                CreateOne(topic, validateOnly, result);
                if (result.ErrorCode == 0 && !Authorized(context, AclOperation.DescribeConfigs, AclResourceType.Topic, topic.Name, audit: false))
                {
                    result.Configs = [];
                    result.TopicConfigErrorCode = (short)KafkaErrorCode.TopicAuthorizationFailed;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                var (code, message) = AdminFailure(context, ex);
                Fail(result, (KafkaErrorCode)code, message);
            }
        }
        return response;
    }

    private void CreateOne(CreateTopicsRequest.CreatableTopic topic, bool validateOnly, CreateTopicsResponse.CreatableTopicResult result)
    {
        var name = topic.Name;
        if (!LogManager.IsValidTopicName(name))
        {
            Fail(result, KafkaErrorCode.InvalidTopicException, $"'{name}' is not a valid topic name: use 1-249 letters, digits, '.', '_' or '-'.");
            return;
        }
        var partitions = topic.NumPartitions;
        if (topic.Assignments.Count > 0)
        {
            if (topic.NumPartitions != -1 || topic.ReplicationFactor != -1)
            {
                Fail(result, KafkaErrorCode.InvalidRequest, "Both numPartitions or replicationFactor and replica assignments were set; use one or the other.");
                return;
            }
            if (AssignmentError(topic.Assignments) is { } problem)
            {
                Fail(result, KafkaErrorCode.InvalidReplicaAssignment, problem);
                return;
            }
            partitions = topic.Assignments.Count;
        }
        else
        {
            if (partitions == -1) partitions = Catalog.Defaults.Partitions;
            if (partitions < 1 || partitions > MaxPartitions)
            {
                Fail(result, KafkaErrorCode.InvalidPartitions, $"Number of partitions must be between 1 and {MaxPartitions}, not {topic.NumPartitions}.");
                return;
            }
            if (topic.ReplicationFactor is not (-1 or 1))
            {
                Fail(result, KafkaErrorCode.InvalidReplicationFactor, $"Replication factor {topic.ReplicationFactor} is larger than the 1 broker available; use 1 (or -1 for the default).");
                return;
            }
        }

        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in topic.Configs)
        {
            if (c.Value is null)
            {
                Fail(result, KafkaErrorCode.InvalidConfig, $"Null value not supported for topic config '{c.Name}'.");
                return;
            }
            configs[c.Name] = c.Value;
        }

        // The catalog validates the name, count and every config before it touches meta.db or disk.
        var catalog = Catalog;
        catalog.Create(name, partitions, configs, validateOnly);
        var effective = TopicConfigKeys.Apply(Log.Options.DefaultTopicConfig, configs);

        result.ErrorCode = 0;
        result.TopicId = validateOnly ? Guid.Empty : catalog.TopicId(name);
        result.NumPartitions = partitions;
        result.ReplicationFactor = 1;
        result.Configs = [];
        foreach (var (key, value, isOverride) in TopicConfigEntries(effective, configs))
        {
            result.Configs.Add(new CreateTopicsResponse.CreatableTopicConfigs
            {
                Name = key,
                Value = value,
                ReadOnly = false,
                ConfigSource = isOverride ? SourceTopicConfig : SourceDefaultConfig,
                IsSensitive = false,
            });
        }
    }

    /// <summary>Null when every partition 0..n-1 is listed once with this broker as its only replica.</summary>
    private string? AssignmentError(List<CreateTopicsRequest.CreatableReplicaAssignment> assignments)
    {
        var seen = new bool[assignments.Count];
        foreach (var a in assignments)
        {
            if (a.PartitionIndex < 0 || a.PartitionIndex >= assignments.Count || seen[a.PartitionIndex])
                return $"Partitions must be numbered 0 to {assignments.Count - 1}, each once; got partition {a.PartitionIndex}.";
            seen[a.PartitionIndex] = true;
            if (a.BrokerIds.Count != 1 || a.BrokerIds[0] != Options.BrokerId)
                return $"Partition {a.PartitionIndex}: this node holds one replica on broker {Options.BrokerId}; got [{string.Join(", ", a.BrokerIds)}].";
        }
        return null;
    }

    private static void Fail(CreateTopicsResponse.CreatableTopicResult result, KafkaErrorCode code, string message)
    {
        result.ErrorCode = (short)code;
        result.ErrorMessage = message;
        result.NumPartitions = -1;
        result.ReplicationFactor = -1;
        result.Configs = [];
        result.TopicId = Guid.Empty;
    }
}
