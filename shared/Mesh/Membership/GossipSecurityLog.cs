using System.Net;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mesh.Membership;

/// <summary>Log messages of gossip encryption (event ids 6700-6749). Never a key, nor anything derived from one.</summary>
internal static partial class GossipSecurityLog
{
    [LoggerMessage(EventId = 6700, Level = LogLevel.Warning, Message = "Gossip {What} from {From} failed authentication (another cluster key, or none): dropped; {Count} so far (logged at most once a minute)")]
    public static partial void Rejected(ILogger logger, string what, IPEndPoint from, long count);
}
