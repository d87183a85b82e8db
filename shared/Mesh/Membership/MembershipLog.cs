using System.Net;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mesh.Membership;

/// <summary>Log messages of membership and its UDP transport (event ids 6000-6049).</summary>
internal static partial class MembershipLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Mesh {Scope}: {NodeId} ({Role}) gossiping on {EndPoint} in cluster {Cluster}")]
    public static partial void Started(ILogger logger, string scope, string nodeId, string role, IPEndPoint endPoint, string cluster);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Mesh {Scope}: joined through {Contacted} of {Seeds} seeds; {Members} members known")]
    public static partial void Joined(ILogger logger, string scope, int contacted, int seeds, int members);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Mesh {Scope}: no seed of {Seeds} answered; retrying while no member is known")]
    public static partial void JoinFailed(ILogger logger, string scope, int seeds);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Mesh {Scope}: member {NodeId} ({Role}) at {EndPoint} joined")]
    public static partial void MemberJoined(ILogger logger, string scope, string nodeId, string role, IPEndPoint endPoint);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Debug, Message = "Mesh {Scope}: member {NodeId} suspected (incarnation {Incarnation}, by {From})")]
    public static partial void MemberSuspected(ILogger logger, string scope, string nodeId, long incarnation, string from);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Mesh {Scope}: member {NodeId} is dead (declared by {From})")]
    public static partial void MemberFailed(ILogger logger, string scope, string nodeId, string from);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Information, Message = "Mesh {Scope}: member {NodeId} left")]
    public static partial void MemberLeft(ILogger logger, string scope, string nodeId);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "Mesh {Scope}: member {NodeId} is alive again (incarnation {Incarnation}, was {Previous})")]
    public static partial void MemberRecovered(ILogger logger, string scope, string nodeId, long incarnation, MemberState previous);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Mesh {Scope}: refuting {Kind} about this node from {From} (incarnation {Incarnation} -> {NewIncarnation})")]
    public static partial void Refuted(ILogger logger, string scope, string kind, string from, long incarnation, long newIncarnation);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Warning, Message = "Mesh {Scope}: this node misses its own acks (health score {Score}); probing every {IntervalMs} ms instead of {BaseMs} ms")]
    public static partial void HealthDegraded(ILogger logger, string scope, int score, long intervalMs, long baseMs);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "Mesh {Scope}: this node's acks arrive again (health score 0)")]
    public static partial void HealthRecovered(ILogger logger, string scope);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Debug, Message = "Mesh {Scope}: push-pull with {EndPoint} failed: {Reason}")]
    public static partial void PushPullFailed(ILogger logger, string scope, IPEndPoint endPoint, string reason);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Debug, Message = "Mesh {Scope}: dropped a message from {EndPoint}: {Status}")]
    public static partial void Dropped(ILogger logger, string scope, IPEndPoint endPoint, Gossip.GossipDecodeStatus status);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Information, Message = "Mesh {Scope}: left the scope")]
    public static partial void Left(ILogger logger, string scope);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Error, Message = "Mesh {Scope}: a MemberChanged handler threw")]
    public static partial void HandlerFailed(ILogger logger, string scope, Exception exception);

    [LoggerMessage(EventId = 6030, Level = LogLevel.Debug, Message = "Mesh transport {EndPoint}: receive failed: {Reason}")]
    public static partial void ReceiveFailed(ILogger logger, IPEndPoint endPoint, string reason);

    [LoggerMessage(EventId = 6031, Level = LogLevel.Debug, Message = "Mesh transport {EndPoint}: exchange from {Remote} failed: {Reason}")]
    public static partial void ExchangeFailed(ILogger logger, IPEndPoint endPoint, IPEndPoint? remote, string reason);
}
