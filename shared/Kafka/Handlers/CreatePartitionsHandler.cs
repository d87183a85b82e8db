using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // CreatePartitions (KIP-195): grows a topic to Count partitions; partitions are never removed,
    // so a count that is not larger is INVALID_PARTITIONS. Manual assignments for the new
    // partitions may only name this broker as the single replica. validateOnly changes nothing.
    // With ACLs: Alter on the topic, else TOPIC_AUTHORIZATION_FAILED.
    private CreatePartitionsResponse HandleCreatePartitions(KafkaRequestContext context, CreatePartitionsRequest request)
    {
        var response = new CreatePartitionsResponse();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var topic in request.Topics)
            if (!seen.Add(topic.Name)) duplicates.Add(topic.Name);

        foreach (var topic in request.Topics)
        {
            var result = new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = topic.Name };
            response.Results.Add(result);
            var (code, message) = duplicates.Contains(topic.Name)
                ? (KafkaErrorCode.InvalidRequest, $"Topic '{topic.Name}' appears more than once in the request.")
                : GrowOne(context, topic, request.ValidateOnly);
            result.ErrorCode = (short)code;
            result.ErrorMessage = message;
        }
        return response;
    }

    private (KafkaErrorCode Code, string? Message) GrowOne(KafkaRequestContext context, CreatePartitionsRequest.CreatePartitionsTopic wanted, bool validateOnly)
    {
        if (!Authorized(context, AclOperation.Alter, AclResourceType.Topic, wanted.Name))
            return (KafkaErrorCode.TopicAuthorizationFailed, $"Alter on topic '{wanted.Name}' is needed.");
        var catalog = Catalog;
        if (!catalog.TryGet(wanted.Name, out var topic))
            return (KafkaErrorCode.UnknownTopicOrPartition, $"Topic '{wanted.Name}' does not exist.");
        var current = topic!.PartitionCount;
        if (wanted.Count <= current)
            return (KafkaErrorCode.InvalidPartitions, $"Topic '{wanted.Name}' has {current} partitions; partitions can only be added, so the new count must be larger than {current}, not {wanted.Count}.");
        if (wanted.Count > MaxPartitions)
            return (KafkaErrorCode.InvalidPartitions, $"A topic may have at most {MaxPartitions} partitions, not {wanted.Count}.");
        if (wanted.Assignments is { } assignments)
        {
            if (assignments.Count != wanted.Count - current)
                return (KafkaErrorCode.InvalidReplicaAssignment, $"{assignments.Count} assignments given for {wanted.Count - current} new partitions.");
            foreach (var a in assignments)
                if (a.BrokerIds.Count != 1 || a.BrokerIds[0] != Options.BrokerId)
                    return (KafkaErrorCode.InvalidReplicaAssignment, $"This node holds one replica on broker {Options.BrokerId}; got [{string.Join(", ", a.BrokerIds)}].");
        }
        try
        {
            catalog.AddPartitions(wanted.Name, wanted.Count, validateOnly);
            return (KafkaErrorCode.None, null);
        }
        catch (ConfigurationException ex)
        {
            // Another request grew the topic between our check and the catalog's.
            return (KafkaErrorCode.InvalidPartitions, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var (code, message) = AdminFailure(context, ex);
            return ((KafkaErrorCode)code, message);
        }
    }
}
