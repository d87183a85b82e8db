using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    /// <summary>The operations Kafka defines on the cluster resource, reported as a bit field (1 &lt;&lt; AclOperation).</summary>
    private static readonly AclOperation[] s_clusterOperations =
    [
        AclOperation.Alter, AclOperation.Create, AclOperation.Describe, AclOperation.ClusterAction,
        AclOperation.DescribeConfigs, AclOperation.AlterConfigs, AclOperation.IdempotentWrite,
    ];

    // DescribeCluster (KIP-700): the cluster is this node, which is both its only broker and its
    // controller. v1 (KIP-919) asks for broker or controller endpoints; both are this listener.
    // The cluster's authorized operations, when asked for, are the ones the principal's ACLs allow
    // (all without an authorizer); none without Describe on the cluster, as Kafka answers.
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
            ClusterAuthorizedOperations = request.IncludeClusterAuthorizedOperations ? AuthorizedClusterOperations(context) : int.MinValue,
        };
    }

    private int AuthorizedClusterOperations(KafkaRequestContext context)
    {
        // Not audited: the client asked what it may do, it did not try.
        if (!Authorized(context, AclOperation.Describe, AclResourceType.Cluster, AclBinding.ClusterName, audit: false)) return 0;
        var operations = 0;
        foreach (var operation in s_clusterOperations)
            if (Authorized(context, operation, AclResourceType.Cluster, AclBinding.ClusterName, audit: false))
                operations |= 1 << (int)operation;
        return operations;
    }
}
