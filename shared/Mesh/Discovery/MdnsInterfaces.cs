using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace EdgeStream.Mesh.Discovery;

/// <summary>Which interfaces mDNS runs on: those named in the options, or every usable one.</summary>
internal static class MdnsInterfaces
{
    /// <summary>
    /// The links to run on, ordered by interface index then family. Usable: up (or of unknown state, as some
    /// virtual links report), multicast-capable, with an address of the family; loopback only when named.
    /// </summary>
    public static List<MdnsLink> Scan(MdnsOptions options, bool ipv6Available, List<string> missing)
    {
        var links = new List<MdnsLink>();
        var found = new HashSet<string>(StringComparer.Ordinal);
        NetworkInterface[] all;
        try
        {
            all = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException)
        {
            all = [];
        }
        foreach (var nic in all)
        {
            var named = options.Interfaces.Count > 0;
            if (named && !options.Interfaces.Contains(nic.Name)) continue;
            if (!named && nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
            if (nic.OperationalStatus is not (OperationalStatus.Up or OperationalStatus.Unknown) || !nic.SupportsMulticast) continue;

            IPInterfaceProperties properties;
            try
            {
                properties = nic.GetIPProperties();
            }
            catch (NetworkInformationException)
            {
                continue; // gone between the listing and now
            }
            var addresses = new List<IPAddress>();
            foreach (var u in properties.UnicastAddresses)
                if (u.Address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && !u.Address.IsIPv6Multicast)
                    addresses.Add(u.Address.AddressFamily == AddressFamily.InterNetworkV6 ? new IPAddress(u.Address.GetAddressBytes()) : u.Address);
            // Scope ids are dropped above: the AAAA record carries bare bytes; the order is made stable.
            addresses.Sort(static (x, y) => x.AddressFamily != y.AddressFamily
                ? x.AddressFamily.CompareTo(y.AddressFamily)
                : x.GetAddressBytes().AsSpan().SequenceCompareTo(y.GetAddressBytes()));

            if (options.UseIPv4 && addresses.Exists(a => a.AddressFamily == AddressFamily.InterNetwork) && TryIndex(properties, v6: false, out var v4Index))
            {
                links.Add(new MdnsLink(v4Index, nic.Name, AddressFamily.InterNetwork, addresses));
                found.Add(nic.Name);
            }
            if (options.UseIPv6 && ipv6Available && addresses.Exists(a => a.AddressFamily == AddressFamily.InterNetworkV6) && TryIndex(properties, v6: true, out var v6Index))
            {
                links.Add(new MdnsLink(v6Index, nic.Name, AddressFamily.InterNetworkV6, addresses));
                found.Add(nic.Name);
            }
        }
        foreach (var name in options.Interfaces)
            if (!found.Contains(name)) missing.Add(name);
        links.Sort(static (a, b) => a.InterfaceIndex != b.InterfaceIndex ? a.InterfaceIndex.CompareTo(b.InterfaceIndex) : a.Family.CompareTo(b.Family));
        return links;
    }

    private static bool TryIndex(IPInterfaceProperties properties, bool v6, out int index)
    {
        try
        {
            index = v6 ? properties.GetIPv6Properties().Index : properties.GetIPv4Properties().Index;
            return true;
        }
        catch (Exception ex) when (ex is NetworkInformationException or PlatformNotSupportedException)
        {
            index = 0;
            return false;
        }
    }
}
