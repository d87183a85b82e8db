using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace EdgeStream.Mesh.Discovery;

/// <summary>A datagram as read off a socket, with the interface it arrived on.</summary>
internal readonly record struct MdnsReceived(byte[] Data, int InterfaceIndex, AddressFamily Family, IPEndPoint Source);

/// <summary>
/// The UDP side: one socket per family bound to port 5353 on the wildcard address, shared with other
/// responders on the host (SO_REUSEADDR: avahi keeps working), the group joined per interface, multicast
/// loopback on (so processes on one host see each other), sends pinned to an interface with IP_MULTICAST_IF.
/// </summary>
internal sealed class MdnsTransport : IDisposable
{
    // A little over the 9000-byte mDNS maximum, so that an oversized datagram is seen as such, not cut to fit.
    private const int ReceiveBufferSize = MdnsPacket.MaxLength + 1;

    private readonly MdnsCounters _counters;
    private readonly HashSet<(int, AddressFamily)> _joined = [];
    private Socket? _v4;
    private Socket? _v6;

    public MdnsTransport(MdnsCounters counters) => _counters = counters;

    public bool HasIPv4 => _v4 is not null;
    public bool HasIPv6 => _v6 is not null;

    /// <summary>Opens the sockets. IPv4 failing is fatal; IPv6 failing (disabled on the host) returns its reason and goes on without it.</summary>
    public string? Open(bool ipv4, bool ipv6)
    {
        string? v6Problem = null;
        if (ipv4)
        {
            try
            {
                _v4 = OpenSocket(AddressFamily.InterNetwork);
            }
            catch (SocketException ex)
            {
                throw new MeshException($"mDNS: cannot bind UDP port {MdnsNames.Port} on IPv4 ({ex.SocketErrorCode}); another responder may hold it without SO_REUSEADDR", ex);
            }
        }
        if (ipv6)
        {
            try
            {
                _v6 = OpenSocket(AddressFamily.InterNetworkV6);
            }
            catch (SocketException ex)
            {
                v6Problem = ex.SocketErrorCode.ToString();
                if (!ipv4) throw new MeshException($"mDNS: cannot bind UDP port {MdnsNames.Port} on IPv6 ({ex.SocketErrorCode})", ex);
            }
        }
        return v6Problem;
    }

    private static Socket OpenSocket(AddressFamily family)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Set before Bind: every responder on the host binds 5353 and all of them must ask to share it.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (family == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
                socket.Bind(new IPEndPoint(IPAddress.IPv6Any, MdnsNames.Port));
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.PacketInformation, true);
                // RFC 6762 §11: sent with hop limit 255, so receivers can tell link-local traffic.
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, true);
            }
            else
            {
                socket.Bind(new IPEndPoint(IPAddress.Any, MdnsNames.Port));
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Joins the group on a link's interface; false (with the reason) when the kernel refuses.</summary>
    public bool Join(MdnsLink link, out string? reason)
    {
        reason = null;
        if (_joined.Contains((link.InterfaceIndex, link.Family))) return true;
        try
        {
            if (link.Family == AddressFamily.InterNetwork && _v4 is not null)
                _v4.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(MdnsLink.GroupV4, link.InterfaceIndex));
            else if (link.Family == AddressFamily.InterNetworkV6 && _v6 is not null)
                _v6.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(MdnsLink.GroupV6, link.InterfaceIndex));
            else
                return false;
            _joined.Add((link.InterfaceIndex, link.Family));
            return true;
        }
        catch (SocketException ex)
        {
            reason = ex.SocketErrorCode.ToString();
            return false;
        }
    }

    /// <summary>Leaves the group on a link that went away (errors ignored: the interface may be gone).</summary>
    public void Leave(MdnsLink link)
    {
        if (!_joined.Remove((link.InterfaceIndex, link.Family))) return;
        try
        {
            if (link.Family == AddressFamily.InterNetwork)
                _v4?.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.DropMembership, new MulticastOption(MdnsLink.GroupV4, link.InterfaceIndex));
            else
                _v6?.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.DropMembership, new IPv6MulticastOption(MdnsLink.GroupV6, link.InterfaceIndex));
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>Reads datagrams into <paramref name="writer"/> until cancelled; a full queue drops (and counts) rather than blocks.</summary>
    public async Task ReceiveLoopAsync(AddressFamily family, ChannelWriter<MdnsReceived> writer, Action<string> onError, CancellationToken cancellationToken)
    {
        var socket = family == AddressFamily.InterNetworkV6 ? _v6 : _v4;
        if (socket is null) return;
        var buffer = new byte[ReceiveBufferSize];
        EndPoint any = family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveMessageFromResult result;
            try
            {
                result = await socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // An ICMP error from an earlier send or a transient error: report, back off a little (bounded), go on.
                onError(ex.SocketErrorCode.ToString());
                failures = Math.Min(failures + 1, 10);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10 * failures), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            var data = buffer.AsSpan(0, result.ReceivedBytes).ToArray();
            var received = new MdnsReceived(data, result.PacketInformation.Interface, family, (IPEndPoint)result.RemoteEndPoint);
            if (!writer.TryWrite(received)) _counters.QueueFull();
        }
    }

    /// <summary>Sends one packet; errors are counted and returned (the caller logs), never thrown.</summary>
    public string? Send(byte[] packet, MdnsLink link, IPEndPoint? destination)
    {
        var socket = link.Family == AddressFamily.InterNetworkV6 ? _v6 : _v4;
        if (socket is null) return "no socket for the family";
        try
        {
            if (destination is null)
            {
                // Pin the multicast to the link's interface; the loop sends one packet at a time, so setting the
                // option just before the send is safe.
                if (link.Family == AddressFamily.InterNetworkV6)
                {
                    socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, link.InterfaceIndex);
                    socket.SendTo(packet, new IPEndPoint(MdnsLink.GroupV6, MdnsNames.Port));
                }
                else
                {
                    // For IPv4 the option takes an interface index in network byte order.
                    socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.HostToNetworkOrder(link.InterfaceIndex));
                    socket.SendTo(packet, new IPEndPoint(MdnsLink.GroupV4, MdnsNames.Port));
                }
            }
            else
            {
                socket.SendTo(packet, destination);
            }
            _counters.Sent();
            return null;
        }
        catch (SocketException ex)
        {
            _counters.SendError();
            return ex.SocketErrorCode.ToString();
        }
    }

    public void Dispose()
    {
        _v4?.Dispose();
        _v6?.Dispose();
        _v4 = _v6 = null;
    }
}
