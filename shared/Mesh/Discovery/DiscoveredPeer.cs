using System.Net;

namespace EdgeStream.Mesh.Discovery;

/// <summary>
/// A node found on the LAN: its service instance resolved to SRV, TXT and at least one address, and its TXT
/// naming the same cluster as ours. Link-local IPv6 addresses carry the scope id of the interface they came in on.
/// </summary>
public sealed record DiscoveredPeer(
    string Instance,
    string NodeId,
    string Role,
    string Cluster,
    string HostName,
    int Port,
    int UplinkPort,
    int GossipPort,
    IReadOnlyList<IPAddress> Addresses,
    IReadOnlyDictionary<string, string> Properties)
{
    /// <summary>Same content (the record's own equality compares the lists by reference).</summary>
    public bool SameAs(DiscoveredPeer other)
    {
        if (Instance != other.Instance || NodeId != other.NodeId || Role != other.Role || Cluster != other.Cluster
            || HostName != other.HostName || Port != other.Port || UplinkPort != other.UplinkPort || GossipPort != other.GossipPort
            || Addresses.Count != other.Addresses.Count || Properties.Count != other.Properties.Count)
            return false;
        for (var i = 0; i < Addresses.Count; i++)
        {
            // IPAddress equality ignores the scope id, which matters for a link-local IPv6 address (and throws for IPv4).
            if (!Addresses[i].Equals(other.Addresses[i])) return false;
            if (Addresses[i].AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && Addresses[i].ScopeId != other.Addresses[i].ScopeId) return false;
        }
        foreach (var (key, value) in Properties)
            if (!other.Properties.TryGetValue(key, out var v) || v != value) return false;
        return true;
    }
}
