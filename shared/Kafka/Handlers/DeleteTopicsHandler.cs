using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DeleteTopics (KIP-4; KIP-516 adds topic ids in v6): deletes each named topic with its data,
    // metadata and producer state. v0-5 name topics; v6 names them or gives their id. Unknown
    // names get UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID; v5+ carry a message.
    // With ACLs: Delete on the topic, else TOPIC_AUTHORIZATION_FAILED.
    private DeleteTopicsResponse HandleDeleteTopics(KafkaRequestContext context, DeleteTopicsRequest request)
    {
        var response = new DeleteTopicsResponse();
        if (context.Version >= 6)
        {
            foreach (var wanted in request.Topics)
                response.Responses.Add(DeleteOne(context, wanted.Name, wanted.TopicId));
        }
        else
        {
            foreach (var name in request.TopicNames)
                response.Responses.Add(DeleteOne(context, name, Guid.Empty));
        }
        return response;
    }

    private DeleteTopicsResponse.DeletableTopicResult DeleteOne(KafkaRequestContext context, string? name, Guid id)
    {
        var result = new DeleteTopicsResponse.DeletableTopicResult { Name = name, TopicId = id };
        var catalog = Catalog;
        if (string.IsNullOrEmpty(name))
        {
            name = id == Guid.Empty ? null : catalog.NameOf(id);
            if (name is null)
            {
                result.ErrorCode = (short)KafkaErrorCode.UnknownTopicId;
                result.ErrorMessage = $"No topic has id {id}.";
                return result;
            }
            result.Name = name;
        }
        else if (id != Guid.Empty && catalog.TopicId(name) != id)
        {
            // Both given (allowed by the schema): they must agree, or we would delete the wrong topic.
            result.ErrorCode = (short)KafkaErrorCode.UnknownTopicId;
            result.ErrorMessage = $"Topic '{name}' does not have id {id}.";
            return result;
        }
        if (!Authorized(context, AclOperation.Delete, AclResourceType.Topic, name))
        {
            result.ErrorCode = (short)KafkaErrorCode.TopicAuthorizationFailed;
            result.ErrorMessage = $"Delete on topic '{name}' is needed.";
            return result;
        }
        if (!catalog.TryGet(name, out var topic))
        {
            result.ErrorCode = (short)KafkaErrorCode.UnknownTopicOrPartition;
            result.ErrorMessage = $"Topic '{name}' does not exist.";
            return result;
        }
        result.TopicId = catalog.TopicId(name);
        try
        {
            var partitions = topic!.Partitions;
            if (!catalog.Delete(name))
            {
                result.ErrorCode = (short)KafkaErrorCode.UnknownTopicOrPartition;
                result.ErrorMessage = $"Topic '{name}' does not exist.";
                return result;
            }
            // Idempotent producers' sequence state belongs to the deleted partitions; a topic
            // created later under the same name starts clean.
            foreach (var partition in partitions) Producers.Forget(partition);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var (code, message) = AdminFailure(context, ex);
            result.ErrorCode = code;
            result.ErrorMessage = message;
        }
        return result;
    }
}
