using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // Metadata: this node is the only broker, the controller, and the leader of every partition.
    // With ACLs, as Kafka: listing every topic leaves out those the principal may not Describe; a
    // named one is TOPIC_AUTHORIZATION_FAILED; auto-creation needs Create (cluster or topic).
    private MetadataResponse HandleMetadata(KafkaRequestContext context, MetadataRequest request)
    {
        var (host, port) = AdvertisedEndpoint(context.LocalEndPoint);
        var response = new MetadataResponse
        {
            Brokers = [new MetadataResponse.MetadataResponseBroker { NodeId = Options.BrokerId, Host = host, Port = port }],
            ClusterId = Options.ClusterId,
            ControllerId = Options.BrokerId,
        };
        var catalog = Catalog;
        // v0: an empty list means all topics; v1+: null means all, empty means none.
        var all = request.Topics is null || (context.Version == 0 && request.Topics.Count == 0);
        if (all)
        {
            foreach (var topic in catalog.Topics.OrderBy(t => t.Name, StringComparer.Ordinal))
                if (Authorized(context, AclOperation.Describe, AclResourceType.Topic, topic.Name, audit: false)) response.Topics.Add(Describe(topic));
            return response;
        }
        // Auto-creation is the client's wish (v4+) and the broker's setting together.
        var mayCreate = context.Version < 4 || request.AllowAutoTopicCreation;
        foreach (var wanted in request.Topics!)
        {
            var name = wanted.Name ?? catalog.NameOf(wanted.TopicId);
            if (name is null)
            {
                response.Topics.Add(new MetadataResponse.MetadataResponseTopic { ErrorCode = (short)KafkaErrorCode.UnknownTopicId, Name = null, TopicId = wanted.TopicId });
                continue;
            }
            if (!LogManager.IsValidTopicName(name))
            {
                response.Topics.Add(new MetadataResponse.MetadataResponseTopic { ErrorCode = (short)KafkaErrorCode.InvalidTopicException, Name = name });
                continue;
            }
            if (!Authorized(context, AclOperation.Describe, AclResourceType.Topic, name))
            {
                response.Topics.Add(new MetadataResponse.MetadataResponseTopic { ErrorCode = (short)KafkaErrorCode.TopicAuthorizationFailed, Name = name });
                continue;
            }
            var topic = catalog.TryGet(name, out var found) ? found : mayCreate && MayCreateTopic(context, name) ? TryAutoCreate(name) : null;
            response.Topics.Add(topic is null
                ? new MetadataResponse.MetadataResponseTopic { ErrorCode = (short)KafkaErrorCode.UnknownTopicOrPartition, Name = name }
                : Describe(topic));
        }
        return response;
    }

    private TopicLog? TryAutoCreate(string name)
    {
        try { return Catalog.GetOrAutoCreate(name); }
        catch (TopicAlreadyExistsException) { return Catalog.TryGet(name, out var t) ? t : null; }
    }

    private MetadataResponse.MetadataResponseTopic Describe(TopicLog topic)
    {
        var result = new MetadataResponse.MetadataResponseTopic { Name = topic.Name, TopicId = Catalog.TopicId(topic.Name) };
        for (var p = 0; p < topic.PartitionCount; p++)
        {
            result.Partitions.Add(new MetadataResponse.MetadataResponsePartition
            {
                PartitionIndex = p,
                LeaderId = Options.BrokerId,
                LeaderEpoch = 0,
                ReplicaNodes = [Options.BrokerId],
                IsrNodes = [Options.BrokerId],
            });
        }
        return result;
    }
}
