using System.Net;
using EdgeStream.Mesh.Discovery;
using Makaretu.Dns;
using Xunit;
using static EdgeStream.Mesh.Tests.Discovery.MdnsTestKit;

namespace EdgeStream.Mesh.Tests.Discovery;

/// <summary>The browser as a state machine: responses and clock ticks in, queries and peer events out; no sockets.</summary>
public class MdnsBrowserTests
{
    private static readonly IPEndPoint PeerSource = new(AddressB, MdnsNames.Port);

    private sealed class Harness
    {
        public readonly ManualClock Clock = new();
        public readonly MdnsBrowser Browser;
        public readonly List<(string Kind, DiscoveredPeer Peer)> Events = [];
        public readonly List<(DateTimeOffset At, Message Query)> Queries = [];

        public Harness(MdnsOptions? options = null)
        {
            Browser = new MdnsBrowser(options ?? Options(nodeId: "edge-a"), Clock, new Random(5));
            Browser.PeerFound += p => Events.Add(("found", p));
            Browser.PeerUpdated += p => Events.Add(("updated", p));
            Browser.PeerLost += p => Events.Add(("lost", p));
            Browser.Start([LinkA]);
        }

        public void Receive(Message message)
        {
            var output = new List<MdnsSend>();
            Browser.Receive(RoundTrip(message), LinkA, PeerSource, output);
            Collect(output);
        }

        /// <summary>Runs every tick due up to <paramref name="until"/> (bounded).</summary>
        public void RunUntil(DateTimeOffset until)
        {
            for (var i = 0; i < 10_000; i++)
            {
                var due = Browser.NextDue;
                if (due > until) break;
                if (due > Clock.Now) Clock.Now = due;
                var output = new List<MdnsSend>();
                Browser.Tick(output);
                Collect(output);
            }
            if (Clock.Now < until) Clock.Now = until;
        }

        private void Collect(List<MdnsSend> output)
        {
            foreach (var s in output) Queries.Add((Clock.Now, RoundTrip(s.Message)));
        }
    }

    private static MdnsOptions Peer(string nodeId = "gw-b", string cluster = "default", TimeSpan? ttl = null) => new()
    {
        NodeId = nodeId,
        Role = "gateway",
        Cluster = cluster,
        Port = 9096,
        UplinkPort = 9096,
        GossipPort = 7947,
        HostRecordTtl = ttl ?? TimeSpan.FromSeconds(120),
        ServiceRecordTtl = ttl ?? TimeSpan.FromMinutes(75),
    };

    [Fact]
    public void Start_QueriesForThePtr_WithBackoffDoublingToTheMaximum()
    {
        var h = new Harness(Options(maxQueryInterval: TimeSpan.FromSeconds(8)));
        var start = h.Clock.Now;
        h.RunUntil(start + TimeSpan.FromSeconds(40));

        Assert.InRange(h.Queries[0].At - start, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(120));
        var gaps = h.Queries.Zip(h.Queries.Skip(1), (a, b) => (b.At - a.At).TotalSeconds).ToList();
        Assert.Equal([1, 2, 4, 8, 8], gaps.Take(5));
        Assert.All(h.Queries, q =>
        {
            Assert.False(q.Query.IsResponse);
            var question = Assert.Single(q.Query.Questions);
            Assert.Equal(Service, question.Name);
            Assert.Equal(DnsType.PTR, question.Type);
            Assert.False(MdnsNames.HasTopBit(question.Class)); // QM: the answer is multicast, so every process on the host sees it
        });
    }

    [Fact]
    public void Announcement_ResolvedPeer_FoundWithTxtPortsAndAddresses()
    {
        var h = new Harness();
        h.Receive(AnnouncementOf(Peer(), LinkB));

        var (kind, peer) = Assert.Single(h.Events);
        Assert.Equal("found", kind);
        Assert.Equal("gw-b", peer.Instance);
        Assert.Equal("gw-b", peer.NodeId);
        Assert.Equal("gateway", peer.Role);
        Assert.Equal("default", peer.Cluster);
        Assert.Equal("gw-b.local", peer.HostName);
        Assert.Equal(9096, peer.Port);
        Assert.Equal(9096, peer.UplinkPort);
        Assert.Equal(7947, peer.GossipPort);
        Assert.Equal([AddressB], peer.Addresses);
        Assert.Same(peer, Assert.Single(h.Browser.Peers));
    }

    [Fact]
    public void Announcement_OtherCluster_NotReported()
    {
        var h = new Harness();
        h.Receive(AnnouncementOf(Peer(cluster: "fleet-2"), LinkB));
        Assert.Empty(h.Events);
        Assert.Empty(h.Browser.Peers);
    }

    [Fact]
    public void Announcement_OurOwn_NotReported()
    {
        var h = new Harness();
        h.Receive(AnnouncementOf(Options(nodeId: "edge-a"), LinkA));
        Assert.Empty(h.Events);
    }

    [Fact]
    public void Query_KnownAnswersOfOthers_NotCached()
    {
        // A query's answer section lists what the asker knows; it is no announcement.
        var h = new Harness();
        var query = Query((Service, DnsType.PTR, false));
        query.Answers.AddRange(AnnouncementOf(Peer(), LinkB).Answers);
        h.Receive(query);
        Assert.Equal(0, h.Browser.CachedRecords);
    }

    [Fact]
    public void TtlExpiry_RefreshQueriesAt80To95Percent_ThenPeerLost()
    {
        var h = new Harness();
        var received = h.Clock.Now;
        h.Receive(AnnouncementOf(Peer(ttl: TimeSpan.FromSeconds(4)), LinkB));
        Assert.Equal("found", Assert.Single(h.Events).Kind);

        h.RunUntil(received + TimeSpan.FromMilliseconds(3990));
        Assert.Single(h.Events); // still there just before the TTL ends

        var refreshes = h.Queries.Where(q => q.Query.Questions.Any(x => x.Type == DnsType.SRV)).Select(q => (q.At - received).TotalSeconds).ToList();
        Assert.Equal(4, refreshes.Count); // §5.2: at 80, 85, 90 and 95 % (+ up to 2 %)
        for (var i = 0; i < 4; i++) Assert.InRange(refreshes[i], 4 * (0.80 + 0.05 * i), 4 * (0.82 + 0.05 * i));

        h.RunUntil(received + TimeSpan.FromSeconds(4));
        Assert.Equal(("lost", "gw-b"), (h.Events[^1].Kind, h.Events[^1].Peer.NodeId));
        Assert.Empty(h.Browser.Peers);
        Assert.Equal(0, h.Browser.CachedRecords);
        Assert.Equal(1, h.Browser.Counters.PeersLost);
    }

    [Fact]
    public void Refresh_AnswerRenewsTheRecords_PeerStays()
    {
        var h = new Harness();
        var announcement = AnnouncementOf(Peer(ttl: TimeSpan.FromSeconds(4)), LinkB);
        h.Receive(announcement);
        h.RunUntil(h.Clock.Now + TimeSpan.FromSeconds(3.5));
        h.Receive(announcement); // the peer answered our refresh query
        h.RunUntil(h.Clock.Now + TimeSpan.FromSeconds(3.5));
        Assert.Single(h.Events);
        Assert.Single(h.Browser.Peers);
    }

    [Fact]
    public void Goodbye_PeerLostOneSecondLater()
    {
        var h = new Harness();
        h.Receive(AnnouncementOf(Peer(), LinkB));
        var goodbye = AnnouncementOf(Peer(), LinkB);
        foreach (var r in goodbye.Answers) r.TTL = TimeSpan.Zero;
        var at = h.Clock.Now;
        h.Receive(goodbye);
        Assert.Single(h.Events);

        h.RunUntil(at + TimeSpan.FromSeconds(1));
        Assert.Equal("lost", h.Events[^1].Kind);
        Assert.Equal(4, h.Browser.Counters.GoodbyesReceived);
    }

    [Fact]
    public void CacheFlush_NewAddress_ReplacesTheOldAfterOneSecond_PeerUpdated()
    {
        var h = new Harness();
        h.Receive(AnnouncementOf(Peer(), LinkB));
        h.RunUntil(h.Clock.Now + TimeSpan.FromSeconds(2));

        var moved = IPAddress.Parse("10.201.1.33");
        h.Receive(AnnouncementOf(Peer(), LinkB with { Addresses = [moved] }));
        Assert.Equal("updated", h.Events[^1].Kind);
        Assert.Equal([AddressB, moved], h.Events[^1].Peer.Addresses); // both until the old one's last second is over

        h.RunUntil(h.Clock.Now + TimeSpan.FromSeconds(1));
        Assert.Equal([moved], h.Events[^1].Peer.Addresses);
    }

    [Fact]
    public void PtrOnly_AsksForSrvAndTxt_ThenForTheAddresses()
    {
        var h = new Harness();
        var announcement = AnnouncementOf(Peer(), LinkB);
        var ptrOnly = new Message { QR = true, AA = true };
        ptrOnly.Answers.Add(announcement.Answers.OfType<PTRRecord>().Single());
        h.Receive(ptrOnly);
        h.RunUntil(h.Clock.Now);
        var instance = MdnsNames.InstanceName("gw-b", Service);
        var resolve = h.Queries.Last().Query;
        Assert.Contains(resolve.Questions, q => q.Name == instance && q.Type == DnsType.SRV);
        Assert.Contains(resolve.Questions, q => q.Name == instance && q.Type == DnsType.TXT);

        var srvTxt = new Message { QR = true, AA = true };
        srvTxt.Answers.AddRange(announcement.Answers.Where(r => r is SRVRecord or TXTRecord));
        h.Receive(srvTxt);
        h.RunUntil(h.Clock.Now + TimeSpan.FromSeconds(1));
        Assert.Contains(h.Queries, q => q.Query.Questions.Any(x => x.Name == new DomainName("gw-b.local") && x.Type == DnsType.A));
        Assert.Empty(h.Events);

        var address = new Message { QR = true, AA = true };
        address.Answers.AddRange(announcement.Answers.OfType<ARecord>());
        h.Receive(address);
        Assert.Equal("found", Assert.Single(h.Events).Kind);
    }

    [Fact]
    public void BrowseQuery_ListsKnownPtrs_WithMoreThanHalfTheirTtlLeft()
    {
        var h = new Harness();
        h.RunUntil(h.Clock.Now + TimeSpan.FromSeconds(0.5)); // first query sent
        h.Receive(AnnouncementOf(Peer(), LinkB));
        h.RunUntil(h.Clock.Now + TimeSpan.FromSeconds(1));
        var query = h.Queries.Last().Query;
        var known = Assert.IsType<PTRRecord>(Assert.Single(query.Answers));
        Assert.Equal(MdnsNames.InstanceName("gw-b", Service), known.DomainName);
        Assert.InRange(known.TTL, TimeSpan.FromMinutes(74), TimeSpan.FromMinutes(75));
    }

    [Fact]
    public void Cache_Full_DropsAndCounts()
    {
        var h = new Harness(Options(maxCached: 16));
        for (var i = 0; i < 10; i++) h.Receive(AnnouncementOf(Peer(nodeId: $"gw-{i}"), LinkB));
        Assert.Equal(16, h.Browser.CachedRecords);
        Assert.True(h.Browser.Counters.CacheFullDropped > 0);
    }

    [Fact]
    public void Handler_Throws_OtherPeersStillReported()
    {
        var h = new Harness();
        var seen = 0;
        h.Browser.PeerFound += _ => { seen++; throw new InvalidOperationException("subscriber bug"); };
        h.Receive(AnnouncementOf(Peer(nodeId: "gw-1"), LinkB));
        h.Receive(AnnouncementOf(Peer(nodeId: "gw-2"), LinkB));
        Assert.Equal(2, seen);
        Assert.Equal(2, h.Browser.Peers.Count);
    }
}
