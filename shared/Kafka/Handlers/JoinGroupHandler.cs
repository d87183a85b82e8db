using System.Net;
using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // JoinGroup: long-polls until the group's join phase completes (every known member rejoined
    // or the rebalance timeout passed). The protocol metadata is opaque here: it goes to the
    // leader byte for byte so client-side assignors (range, roundrobin, cooperative-sticky) work.
    // v0 has no rebalance timeout ("the session timeout is used"); v4+ answers a member without
    // an id with MEMBER_ID_REQUIRED (KIP-394); v5+ carries group.instance.id (KIP-345); v9 tells
    // a static leader that rejoined a stable group to skip the assignment (KIP-814).
    private async ValueTask<KafkaResponse?> HandleJoinGroupAsync(KafkaRequestContext context, JoinGroupRequest request)
    {
        if (!Authorized(context, AclOperation.Read, AclResourceType.Group, request.GroupId))
            return new KafkaResponse(new JoinGroupResponse { ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed, GenerationId = -1, MemberId = request.MemberId,
                ProtocolName = context.Version >= 7 ? null : "" });
        var protocols = new List<MemberProtocol>(request.Protocols.Count);
        foreach (var p in request.Protocols) protocols.Add(new MemberProtocol(p.Name, p.Metadata));
        var join = new JoinRequest(request.GroupId, request.MemberId, context.Version >= 5 ? request.GroupInstanceId : null,
            context.Header.ClientId ?? "", ClientHost(context), request.SessionTimeoutMs,
            context.Version >= 1 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs, request.ProtocolType, protocols,
            RequireKnownMemberId: context.Version >= 4);
        var result = await Groups.JoinAsync(join).ConfigureAwait(false);
        var response = new JoinGroupResponse
        {
            ErrorCode = (short)result.Error,
            GenerationId = result.GenerationId,
            ProtocolType = result.ProtocolType,
            ProtocolName = result.ProtocolName ?? (context.Version >= 7 ? null : ""),
            Leader = result.LeaderId,
            SkipAssignment = result.SkipAssignment && context.Version >= 9,
            MemberId = result.MemberId,
        };
        if (result.Members is { } members)
        {
            foreach (var m in members)
                response.Members.Add(new JoinGroupResponse.JoinGroupResponseMember { MemberId = m.MemberId, GroupInstanceId = m.InstanceId, Metadata = m.Metadata });
        }
        return new KafkaResponse(response);
    }

    /// <summary>The client host as Kafka reports it in DescribeGroups: "/" and the address.</summary>
    private static string ClientHost(KafkaRequestContext context)
    {
        if (context.RemoteEndPoint is not IPEndPoint ip) return "";
        var address = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
        return "/" + address;
    }
}
