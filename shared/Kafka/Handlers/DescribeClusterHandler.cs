using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    /// <summary>
    /// The cluster operations an authorized client may perform, as Kafka's bit field (1 &lt;&lt; AclOperation):
    /// ALTER 4, CREATE 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
    /// There are no ACLs here, so everyone may do all of them.
    /// </summary>
    private const int AllClusterOperations = (1 << 4) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

    // DescribeCluster (KIP-700): the cluster is this node, which is both its only broker and its
    // controller. v1 (KIP-919) asks for broker or controller endpoints; both are this listener.
    private DescribeClusterResponse HandleDescribeCluster(KafkaRequestContext context, DescribeClusterRequest request)
    {
        var (host, port) = AdvertisedEndpoint(context.LocalEndPoint);
        return new DescribeClusterResponse
        {
            ErrorCode = 0,
            ErrorMessage = null,
            EndpointType = request.EndpointType,
            ClusterId = Options.ClusterId,
            ControllerId = Options.BrokerId,
            Brokers = [new DescribeClusterResponse.DescribeClusterBroker { BrokerId = Options.BrokerId, Host = host, Port = port, Rack = null }],
            ClusterAuthorizedOperations = request.IncludeClusterAuthorizedOperations ? AllClusterOperations : int.MinValue,
        };
    }
}
