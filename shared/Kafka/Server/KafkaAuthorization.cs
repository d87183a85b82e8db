using System.Net;
using EdgeStream.Security.Acls;
using EdgeStream.Security.Authentication;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    /// <summary>
    /// Whether the connection's principal may do <paramref name="operation"/> on the resource
    /// (<see cref="AclAuthorizer"/>; always when the node has no authorizer or it is off). A refusal is
    /// audited unless <paramref name="audit"/> is false (Kafka does not log resources it merely
    /// filters out, e.g. topics hidden from Metadata).
    /// </summary>
    internal bool Authorized(KafkaRequestContext context, AclOperation operation, AclResourceType type, string name, bool audit = true)
    {
        if (Authorizer is not { Enabled: true } authorizer) return true;
        var host = HostOf(context.RemoteEndPoint);
        if (authorizer.Authorize(context.Session.Principal, host, operation, type, name)) return true;
        if (audit) authorizer.Audit.Denied(AuthenticationProtocol.Kafka, context.Session.Principal, context.RemoteEndPoint?.ToString(), operation, type, name);
        return false;
    }

    /// <summary><see cref="Authorized"/> for the cluster resource.</summary>
    internal bool AuthorizedOnCluster(KafkaRequestContext context, AclOperation operation) =>
        Authorized(context, operation, AclResourceType.Cluster, AclBinding.ClusterName);

    /// <summary>Whether the principal has <paramref name="operation"/> on some resource of <paramref name="type"/> (audited when not).</summary>
    internal bool AuthorizedOnAny(KafkaRequestContext context, AclOperation operation, AclResourceType type)
    {
        if (Authorizer is not { Enabled: true } authorizer) return true;
        if (authorizer.AuthorizeAny(context.Session.Principal, HostOf(context.RemoteEndPoint), operation, type)) return true;
        authorizer.Audit.Denied(AuthenticationProtocol.Kafka, context.Session.Principal, context.RemoteEndPoint?.ToString(), operation, type, AclBinding.Wildcard);
        return false;
    }

    /// <summary>
    /// Kafka's topic auto-creation check: Create on the cluster or on the topic. Not audited, as the
    /// caller then answers UNKNOWN_TOPIC_OR_PARTITION, not a refusal.
    /// </summary>
    internal bool MayCreateTopic(KafkaRequestContext context, string name) =>
        Authorized(context, AclOperation.Create, AclResourceType.Cluster, AclBinding.ClusterName, audit: false)
        || Authorized(context, AclOperation.Create, AclResourceType.Topic, name, audit: false);

    /// <summary>
    /// Why a transactional request is refused: TRANSACTIONAL_ID_AUTHORIZATION_FAILED without Write on
    /// the transactional id, GROUP_AUTHORIZATION_FAILED without Read on <paramref name="groupId"/> (when
    /// given); null when it may go on.
    /// </summary>
    internal KafkaErrorCode? TransactionRefusal(KafkaRequestContext context, string transactionalId, string? groupId)
    {
        if (!Authorized(context, AclOperation.Write, AclResourceType.TransactionalId, transactionalId)) return KafkaErrorCode.TransactionalIdAuthorizationFailed;
        if (groupId is not null && !Authorized(context, AclOperation.Read, AclResourceType.Group, groupId)) return KafkaErrorCode.GroupAuthorizationFailed;
        return null;
    }

    /// <summary>The client's address as an ACL's host names it: the IP, IPv4-mapped addresses as IPv4.</summary>
    private static string? HostOf(EndPoint? remote)
    {
        if (remote is not IPEndPoint ip) return null;
        var address = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
        return address.ToString();
    }
}
