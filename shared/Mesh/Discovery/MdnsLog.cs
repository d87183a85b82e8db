using Microsoft.Extensions.Logging;

namespace EdgeStream.Mesh.Discovery;

/// <summary>Log messages of mDNS discovery (event ids 6600-6699).</summary>
internal static partial class MdnsLog
{
    [LoggerMessage(EventId = 6600, Level = LogLevel.Information, Message = "mDNS: starting as {Instance} on host {Host}.local, cluster {Cluster}, service {ServiceType} (advertise {Advertise}, browse {Browse})")]
    public static partial void Starting(ILogger logger, string instance, string host, string cluster, string serviceType, bool advertise, bool browse);

    [LoggerMessage(EventId = 6601, Level = LogLevel.Warning, Message = "mDNS: no usable interface (up, multicast, with an address{Restriction}); looking again every {Seconds} s")]
    public static partial void NoInterfaces(ILogger logger, string restriction, double seconds);

    [LoggerMessage(EventId = 6602, Level = LogLevel.Information, Message = "mDNS: running on {Links}")]
    public static partial void Links(ILogger logger, string links);

    [LoggerMessage(EventId = 6603, Level = LogLevel.Information, Message = "mDNS: claimed instance {Instance} and host {Host}.local")]
    public static partial void Claimed(ILogger logger, string instance, string host);

    [LoggerMessage(EventId = 6604, Level = LogLevel.Warning, Message = "mDNS: name {Name} is taken by another host on {Link}; trying {NewName}")]
    public static partial void Renamed(ILogger logger, string name, string link, string newName);

    [LoggerMessage(EventId = 6605, Level = LogLevel.Information, Message = "mDNS: another host on {Link} probes for {Name} at the same time and wins the tiebreak; probing again in 1 s")]
    public static partial void TiebreakLost(ILogger logger, string name, string link);

    [LoggerMessage(EventId = 6606, Level = LogLevel.Warning, Message = "mDNS: a response on {Link} contradicts our record for {Name}; probing it again")]
    public static partial void ConflictAfterClaim(ILogger logger, string name, string link);

    [LoggerMessage(EventId = 6607, Level = LogLevel.Warning, Message = "mDNS: {Count} conflicts within 10 s; waiting 5 s before probing again (RFC 6762 §8.1)")]
    public static partial void ConflictStorm(ILogger logger, int count);

    [LoggerMessage(EventId = 6610, Level = LogLevel.Information, Message = "mDNS: found peer {NodeId} ({Role}) as {Instance} at {Addresses} port {Port}")]
    public static partial void PeerFound(ILogger logger, string nodeId, string role, string instance, string addresses, int port);

    [LoggerMessage(EventId = 6611, Level = LogLevel.Information, Message = "mDNS: peer {NodeId} ({Instance}) changed: {Addresses} port {Port}")]
    public static partial void PeerUpdated(ILogger logger, string nodeId, string instance, string addresses, int port);

    [LoggerMessage(EventId = 6612, Level = LogLevel.Information, Message = "mDNS: lost peer {NodeId} ({Instance})")]
    public static partial void PeerLost(ILogger logger, string nodeId, string instance);

    [LoggerMessage(EventId = 6613, Level = LogLevel.Error, Message = "mDNS: a peer event handler threw")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6620, Level = LogLevel.Debug, Message = "mDNS: ignored a packet from {Source} on {Link}: {Error}")]
    public static partial void Dropped(ILogger logger, string source, string link, MdnsPacketError error);

    [LoggerMessage(EventId = 6621, Level = LogLevel.Warning, Message = "mDNS: sending on {Link} failed: {Reason}")]
    public static partial void SendFailed(ILogger logger, string link, string reason);

    [LoggerMessage(EventId = 6622, Level = LogLevel.Warning, Message = "mDNS: IPv6 is not available ({Reason}); running on IPv4 only")]
    public static partial void NoIPv6(ILogger logger, string reason);

    [LoggerMessage(EventId = 6623, Level = LogLevel.Warning, Message = "mDNS: joining the group on {Link} failed: {Reason}")]
    public static partial void JoinFailed(ILogger logger, string link, string reason);

    [LoggerMessage(EventId = 6624, Level = LogLevel.Warning, Message = "mDNS: receiving failed: {Reason}")]
    public static partial void ReceiveFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 6625, Level = LogLevel.Information, Message = "mDNS: sent goodbye for {Instance}")]
    public static partial void Goodbye(ILogger logger, string instance);

    [LoggerMessage(EventId = 6626, Level = LogLevel.Warning, Message = "mDNS: interface {Name} named in the options was not found or is not usable")]
    public static partial void InterfaceMissing(ILogger logger, string name);
}
