using System.Net.Sockets;
using System.Net;
using EdgeStream.Mesh.Discovery;
using Makaretu.Dns;
using Xunit;

namespace EdgeStream.Mesh.Tests.Discovery;

/// <summary>A clock the test moves by hand: the responder and browser read time only through it.</summary>
internal sealed class ManualClock : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => Now;
    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>Options, links and messages the socket-free tests share.</summary>
internal static class MdnsTestKit
{
    public static readonly IPAddress AddressA = IPAddress.Parse("10.201.1.2");
    public static readonly IPAddress AddressB = IPAddress.Parse("10.201.1.3");
    public static readonly MdnsLink LinkA = new(2, "eth0", AddressFamily.InterNetwork, [AddressA]);
    public static readonly MdnsLink LinkB = new(2, "eth0", AddressFamily.InterNetwork, [AddressB]);
    public static readonly IPEndPoint Querier = new(IPAddress.Parse("10.201.1.9"), MdnsNames.Port);
    public static readonly DomainName Service = MdnsNames.ServiceName("_edgestream._tcp.local");

    public static MdnsOptions Options(string nodeId = "edge-a", string cluster = "default", string? instance = null, int port = 9095,
        TimeSpan? ttl = null, TimeSpan? maxQueryInterval = null, int maxCached = 4096) => new()
    {
        NodeId = nodeId,
        Role = "edge",
        Cluster = cluster,
        InstanceName = instance,
        Port = port,
        UplinkPort = port,
        GossipPort = 7946,
        HostRecordTtl = ttl ?? TimeSpan.FromSeconds(120),
        ServiceRecordTtl = ttl ?? TimeSpan.FromMinutes(75),
        MaxQueryInterval = maxQueryInterval ?? TimeSpan.FromHours(1),
        MaxCachedRecords = maxCached,
    };

    /// <summary>Runs <paramref name="responder"/> until it has announced (bounded), returning what it sent with the time it was sent.</summary>
    public static List<(DateTimeOffset At, MdnsSend Send)> RunToAnnounced(MdnsResponder responder, ManualClock clock)
    {
        var sent = new List<(DateTimeOffset, MdnsSend)>();
        var output = new List<MdnsSend>();
        for (var i = 0; i < 50 && responder.State != MdnsResponderState.Announced; i++)
        {
            if (responder.NextDue > clock.Now) clock.Now = responder.NextDue;
            responder.Tick(output);
            foreach (var s in output) sent.Add((clock.Now, s));
            output.Clear();
        }
        Assert.Equal(MdnsResponderState.Announced, responder.State);
        return sent;
    }

    /// <summary>A started responder that has claimed its names and announced them.</summary>
    public static (MdnsResponder Responder, ManualClock Clock) Announced(MdnsOptions? options = null, MdnsLink? link = null)
    {
        var clock = new ManualClock();
        var responder = new MdnsResponder(options ?? Options(), clock, new Random(1));
        responder.Start([link ?? LinkA]);
        RunToAnnounced(responder, clock);
        return (responder, clock);
    }

    /// <summary>A started responder that has sent its first probe (returned, as a peer would decode it).</summary>
    public static (MdnsResponder Responder, ManualClock Clock, Message FirstProbe) FirstProbeSent(MdnsOptions? options = null, MdnsLink? link = null)
    {
        var clock = new ManualClock();
        var responder = new MdnsResponder(options ?? Options(), clock, new Random(3));
        responder.Start([link ?? LinkA]);
        var output = new List<MdnsSend>();
        clock.Now = responder.NextDue;
        responder.Tick(output);
        return (responder, clock, RoundTrip(Assert.Single(output).Message));
    }

    /// <summary>Through the wire and back: what a peer would decode (and a check that we encode valid packets).</summary>
    public static Message RoundTrip(Message message)
    {
        var bytes = MdnsPacket.Encode(message);
        Assert.Equal(MdnsPacketError.None, MdnsPacket.TryDecode(bytes, bytes.Length, out var decoded));
        return decoded!;
    }

    /// <summary>The announcement another node would send: what its responder multicasts after probing.</summary>
    public static Message AnnouncementOf(MdnsOptions options, MdnsLink link)
    {
        var clock = new ManualClock();
        var responder = new MdnsResponder(options, clock, new Random(2));
        responder.Start([link]);
        var sent = RunToAnnounced(responder, clock);
        return RoundTrip(sent.Last().Send.Message);
    }

    public static Message Query(params (DomainName Name, DnsType Type, bool Qu)[] questions)
    {
        var m = new Message();
        foreach (var (name, type, qu) in questions) m.Questions.Add(new Question { Name = name, Type = type, Class = MdnsNames.In(qu) });
        return m;
    }
}
