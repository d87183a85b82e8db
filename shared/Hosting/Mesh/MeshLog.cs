using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Mesh;

/// <summary>Log messages of the mesh wiring (event ids 1250-1269). Member joins, suspicions, deaths and leaves are the membership library's (6000s).</summary>
internal static partial class MeshLog
{
    [LoggerMessage(EventId = 1250, Level = LogLevel.Information, Message = "Mesh: {NodeId} in scopes {Scopes}, gossip at {Gossip} ({Encryption}), cluster {Cluster}, {Seeds} seeds, mDNS {Mdns}")]
    public static partial void Started(ILogger logger, string nodeId, string scopes, string gossip, string encryption, string cluster, int seeds, string mdns);

    [LoggerMessage(EventId = 1251, Level = LogLevel.Information, Message = "Parent changed from {From} to {To} because {Reason}")]
    public static partial void ParentChanged(ILogger logger, string from, string to, string reason);

    [LoggerMessage(EventId = 1252, Level = LogLevel.Warning, Message = "Mesh: listed parent {Address} ({NodeId}) is {State}; telling the uplink to move on")]
    public static partial void ListedParentDown(ILogger logger, string address, string nodeId, string state);

    [LoggerMessage(EventId = 1253, Level = LogLevel.Warning, Message = "Mesh: seed {Seed} cannot be resolved: {Reason}")]
    public static partial void SeedUnresolved(ILogger logger, string seed, string reason);

    [LoggerMessage(EventId = 1254, Level = LogLevel.Warning, Message = "Mesh: mDNS discovery is not running: {Reason}")]
    public static partial void MdnsFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1255, Level = LogLevel.Information, Message = "Mesh: mDNS found {NodeId} ({Role}) at {Address}, gossip port {Port}; joining it into the site scope")]
    public static partial void PeerDiscovered(ILogger logger, string nodeId, string role, string address, int port);
}
