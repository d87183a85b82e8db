using System.Net;
using System.Net.Sockets;
using Makaretu.Dns;

namespace EdgeStream.Mesh.Discovery;

/// <summary>
/// One interface and one address family that mDNS runs on (its own group membership): the unit a packet
/// arrives on and is sent to. <see cref="Addresses"/> are all of the interface's addresses, both families,
/// since an answer on either family carries the A and the AAAA records (RFC 6762 §6.2).
/// </summary>
public sealed record MdnsLink(int InterfaceIndex, string InterfaceName, AddressFamily Family, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>The multicast group of the family: 224.0.0.251 or ff02::fb.</summary>
    public IPAddress Group => Family == AddressFamily.InterNetworkV6 ? GroupV6 : GroupV4;

    public static readonly IPAddress GroupV4 = IPAddress.Parse("224.0.0.251");
    public static readonly IPAddress GroupV6 = IPAddress.Parse("ff02::fb");

    /// <summary>Same interface, family and addresses (the record's own equality compares the list by reference).</summary>
    public bool SameAs(MdnsLink other)
    {
        if (InterfaceIndex != other.InterfaceIndex || Family != other.Family || InterfaceName != other.InterfaceName
            || Addresses.Count != other.Addresses.Count) return false;
        for (var i = 0; i < Addresses.Count; i++)
            if (!Addresses[i].Equals(other.Addresses[i])) return false;
        return true;
    }

    public override string ToString() => $"{InterfaceName}/{(Family == AddressFamily.InterNetworkV6 ? "v6" : "v4")}";

    internal static bool SameSet(IReadOnlyList<MdnsLink> a, IReadOnlyList<MdnsLink> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
            if (!a[i].SameAs(b[i])) return false;
        return true;
    }
}

/// <summary>
/// A packet for the transport to send: on <see cref="Link"/>'s multicast group, or to <see cref="Destination"/>
/// (a unicast reply: QU questions, legacy queriers) out of that link's socket.
/// </summary>
public readonly record struct MdnsSend(Message Message, MdnsLink Link, IPEndPoint? Destination = null);
