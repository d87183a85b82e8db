using System.Net;
using EdgeStream.Mesh.Discovery;
using Makaretu.Dns;
using Xunit;
using static EdgeStream.Mesh.Tests.Discovery.MdnsTestKit;

namespace EdgeStream.Mesh.Tests.Discovery;

/// <summary>The responder as a state machine: packets and clock ticks in, packets out; no sockets.</summary>
public class MdnsResponderTests
{
    private static readonly DomainName Instance = MdnsNames.InstanceName("edge-a", Service);
    private static readonly DomainName Host = new("edge-a.local");

    /// <summary>An announced responder, <paramref name="after"/> later, asked <paramref name="query"/>: what it sends, delayed answers included.</summary>
    private static (MdnsResponder Responder, List<MdnsSend> Sent) AskAnnounced(Message query, TimeSpan after, IPEndPoint? from = null)
    {
        var (responder, clock) = Announced();
        clock.Advance(after);
        var output = new List<MdnsSend>();
        responder.Receive(RoundTrip(query), LinkA, from ?? Querier, output);
        for (var i = 0; i < 10 && responder.NextDue != DateTimeOffset.MaxValue; i++)
        {
            clock.Now = responder.NextDue;
            responder.Tick(output);
        }
        return (responder, output);
    }

    [Fact]
    public void Start_ThreeProbes250msApart_ThenTwoAnnouncements1sApart()
    {
        var clock = new ManualClock();
        var start = clock.Now;
        var responder = new MdnsResponder(Options(), clock, new Random(7));
        var claimed = new List<(string, string)>();
        responder.Claimed += (i, h) => claimed.Add((i, h));
        responder.Start([LinkA]);

        var sent = RunToAnnounced(responder, clock);

        Assert.Equal(5, sent.Count);
        var probes = sent.Take(3).ToList();
        Assert.InRange(probes[0].At - start, TimeSpan.Zero, TimeSpan.FromMilliseconds(250)); // §8.1: random 0-250 ms first
        for (var i = 0; i < 3; i++)
        {
            var probe = RoundTrip(probes[i].Send.Message);
            Assert.False(probe.IsResponse);
            Assert.Null(probes[i].Send.Destination); // multicast
            Assert.Equal([Instance, Host], probe.Questions.Select(q => q.Name));
            Assert.All(probe.Questions, q => Assert.Equal(DnsType.ANY, q.Type));
            Assert.All(probe.Questions, q => Assert.Equal(i == 0, MdnsNames.HasTopBit(q.Class))); // first probe QU
            Assert.Contains(probe.AuthorityRecords, r => r is SRVRecord);
            Assert.Contains(probe.AuthorityRecords, r => r is TXTRecord);
            Assert.Contains(probe.AuthorityRecords, r => r is ARecord);
            Assert.DoesNotContain(probe.AuthorityRecords, r => MdnsNames.HasTopBit(r.Class));
            if (i > 0) Assert.Equal(TimeSpan.FromMilliseconds(250), probes[i].At - probes[i - 1].At);
        }
        var announcements = sent.Skip(3).ToList();
        Assert.Equal(TimeSpan.FromMilliseconds(250), announcements[0].At - probes[2].At);
        Assert.Equal(TimeSpan.FromSeconds(1), announcements[1].At - announcements[0].At);
        Assert.All(announcements, a => Assert.True(a.Send.Message.IsResponse));
        Assert.All(announcements, a => Assert.Equal(4, a.Send.Message.Answers.Count));
        Assert.Equal([("edge-a", "edge-a")], claimed);
        Assert.Equal(DateTimeOffset.MaxValue, responder.NextDue);
    }

    [Fact]
    public void Stop_AfterClaim_SendsEveryRecordWithTtlZero()
    {
        var (responder, _) = Announced();
        var output = new List<MdnsSend>();
        responder.Stop(output);

        var goodbye = RoundTrip(Assert.Single(output).Message);
        Assert.True(goodbye.IsResponse);
        Assert.Equal(4, goodbye.Answers.Count);
        Assert.All(goodbye.Answers, r => Assert.Equal(TimeSpan.Zero, r.TTL));
        Assert.Equal(MdnsResponderState.Stopped, responder.State);
    }

    [Fact]
    public void Stop_WhileProbing_SendsNoGoodbye()
    {
        var (responder, _, _) = FirstProbeSent();
        var output = new List<MdnsSend>();
        responder.Stop(output);
        Assert.Empty(output);
    }

    [Fact]
    public void Probing_ConflictingSrv_RenamesToTwoThenThree_AndClaimsThat()
    {
        var (responder, clock, _) = FirstProbeSent();
        var output = new List<MdnsSend>();

        // Another host already owns "edge-a": it answers with its SRV (other port and host).
        var other = AnnouncementOf(Options(nodeId: "edge-z", instance: "edge-a", port: 1234), LinkB);
        responder.Receive(other, LinkB, new IPEndPoint(AddressB, 5353), output);
        Assert.Equal("edge-a (2)", responder.Instance);
        Assert.Equal(MdnsResponderState.Probing, responder.State);

        var owner2 = AnnouncementOf(Options(nodeId: "edge-y", instance: "edge-a (2)", port: 1235), LinkB);
        responder.Receive(owner2, LinkB, new IPEndPoint(AddressB, 5353), output);
        Assert.Equal("edge-a (3)", responder.Instance);
        Assert.Equal(2, responder.Counters.Conflicts);

        output.Clear();
        var sent = RunToAnnounced(responder, clock);
        var probe = RoundTrip(sent[0].Send.Message);
        Assert.Equal(MdnsNames.InstanceName("edge-a (3)", Service), probe.Questions[0].Name);
        var ptr = sent.Last().Send.Message.Answers.OfType<PTRRecord>().Single();
        Assert.Equal("edge-a (3)", ptr.DomainName.Labels[0]);
    }

    [Fact]
    public void Probing_ConflictingAddressForHostName_RenamesHost()
    {
        var (responder, _, _) = FirstProbeSent();
        var other = new Message { QR = true, AA = true };
        other.Answers.Add(new ARecord { Name = Host, Address = AddressB, Class = MdnsNames.In(true), TTL = TimeSpan.FromSeconds(120) });
        responder.Receive(RoundTrip(other), LinkA, new IPEndPoint(AddressB, 5353), []);
        Assert.Equal("edge-a-2", responder.Host);
        Assert.Equal("edge-a", responder.Instance);
    }

    [Fact]
    public void Probing_OwnProbeAndAnnouncementLoopedBack_AreNoConflict()
    {
        var (responder, clock, ownProbe) = FirstProbeSent();
        var output = new List<MdnsSend>();
        responder.Receive(ownProbe, LinkA, new IPEndPoint(AddressA, 5353), output);
        // The same records from elsewhere (our own multicast, or a mirror) do not conflict either (§8.2).
        responder.Receive(AnnouncementOf(Options(), LinkA), LinkA, new IPEndPoint(AddressA, 5353), output);
        RunToAnnounced(responder, clock);
        Assert.Equal("edge-a", responder.Instance);
        Assert.Equal(0, responder.Counters.Conflicts);
    }

    [Fact]
    public void Probing_SimultaneousProbeWithLaterRecords_DefersOneSecond_EarlierOnesIgnored()
    {
        var (responder, clock, _) = FirstProbeSent(Options(port: 5000));
        var output = new List<MdnsSend>();

        // Their SRV has a lower port: lexicographically earlier, we win and go on.
        responder.Receive(ProbeFrom(port: 4000), LinkA, new IPEndPoint(AddressB, 5353), output);
        Assert.Equal(clock.Now + MdnsResponder.ProbeInterval, responder.NextDue);

        // Higher port: theirs is later, we lose the tiebreak and probe again in one second (§8.2).
        responder.Receive(ProbeFrom(port: 6000), LinkA, new IPEndPoint(AddressB, 5353), output);
        Assert.Equal(clock.Now + TimeSpan.FromSeconds(1), responder.NextDue);
        Assert.Equal("edge-a", responder.Instance);

        // The same host and TXT as ours, only the SRV port differs: the tiebreak then turns on the port.
        static Message ProbeFrom(int port)
        {
            var (_, _, probe) = FirstProbeSent(Options(port: 5000));
            probe.AuthorityRecords.OfType<SRVRecord>().Single().Port = (ushort)port;
            return RoundTrip(probe);
        }
    }

    [Fact]
    public void Announced_ContradictingResponse_ProbesAgain_ThenRenamesIfTheOtherKeepsIt()
    {
        var (responder, clock) = Announced();
        var other = AnnouncementOf(Options(nodeId: "edge-z", instance: "edge-a", port: 1234), LinkB);
        responder.Receive(other, LinkB, new IPEndPoint(AddressB, 5353), []);
        Assert.Equal(MdnsResponderState.Probing, responder.State);
        Assert.Equal("edge-a", responder.Instance);
        responder.Receive(other, LinkB, new IPEndPoint(AddressB, 5353), []);
        Assert.Equal("edge-a (2)", responder.Instance);
    }

    [Fact]
    public void Query_ForService_MulticastAfter20To120ms_WithSrvTxtAInAdditional()
    {
        var (responder, clock) = Announced();
        clock.Advance(TimeSpan.FromSeconds(5)); // past the 1 s multicast spacing after the announcement
        var output = new List<MdnsSend>();
        var asked = clock.Now;
        responder.Receive(RoundTrip(Query((Service, DnsType.PTR, false))), LinkA, Querier, output);
        Assert.Empty(output); // shared answer: delayed (§6)
        Assert.InRange(responder.NextDue - asked, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(120));

        clock.Now = responder.NextDue;
        responder.Tick(output);
        var send = Assert.Single(output);
        Assert.Null(send.Destination);
        var answer = RoundTrip(send.Message);
        Assert.Empty(answer.Questions);
        Assert.IsType<PTRRecord>(Assert.Single(answer.Answers));
        Assert.Equal(["SRV", "TXT", "A"], answer.AdditionalRecords.Select(r => r.Type.ToString()));
        Assert.Equal(1, responder.Counters.QueriesAnswered);
    }

    [Fact]
    public void Query_ForUniqueRecord_AnsweredAtOnce()
    {
        var (_, sent) = AskAnnounced(Query((Instance, DnsType.SRV, false)), TimeSpan.FromSeconds(5));
        var answer = Assert.Single(sent).Message;
        Assert.IsType<SRVRecord>(Assert.Single(answer.Answers));
        Assert.IsType<ARecord>(Assert.Single(answer.AdditionalRecords));
    }

    [Fact]
    public void Query_KnownAnswerWithHalfTtlLeft_Suppressed_LessThanHalf_Answered()
    {
        var (responder, clock) = Announced();
        clock.Advance(TimeSpan.FromSeconds(5));
        var output = new List<MdnsSend>();
        var ptr = new PTRRecord { Name = Service, DomainName = Instance, TTL = TimeSpan.FromMinutes(40) }; // ≥ 75/2 min

        var query = Query((Service, DnsType.PTR, false));
        query.Answers.Add(ptr);
        responder.Receive(RoundTrip(query), LinkA, Querier, output);
        Assert.Equal(DateTimeOffset.MaxValue, responder.NextDue); // nothing pending
        Assert.Equal(1, responder.Counters.KnownAnswersSuppressed);

        ptr.TTL = TimeSpan.FromMinutes(30); // < 75/2 min: the querier's copy is getting old, answer it
        responder.Receive(RoundTrip(query), LinkA, Querier, output);
        clock.Now = responder.NextDue;
        responder.Tick(output);
        Assert.IsType<PTRRecord>(Assert.Single(Assert.Single(output).Message.Answers));
    }

    [Fact]
    public void Query_QuBitAndRecentlyMulticast_UnicastToTheQuerier()
    {
        // Announced 5 s ago: within a quarter of the TTLs.
        var (_, sent) = AskAnnounced(Query((Service, DnsType.PTR, true)), TimeSpan.FromSeconds(5));
        var send = Assert.Single(sent);
        Assert.Equal(Querier, send.Destination);
        Assert.IsType<PTRRecord>(Assert.Single(send.Message.Answers));
    }

    [Fact]
    public void Query_QuBitButNotMulticastForAQuarterTtl_Multicast()
    {
        // SRV TTL 120 s: its last multicast is older than 30 s.
        var (_, sent) = AskAnnounced(Query((Instance, DnsType.SRV, true)), TimeSpan.FromSeconds(31));
        var send = Assert.Single(sent);
        Assert.Null(send.Destination);
    }

    [Fact]
    public void Query_FromEphemeralPort_LegacyUnicastWithIdQuestionAndShortTtl()
    {
        var query = Query((Instance, DnsType.SRV, false));
        query.Id = 0x4242;
        var resolver = new IPEndPoint(IPAddress.Parse("10.201.1.9"), 40000);
        var (_, sent) = AskAnnounced(query, TimeSpan.Zero, resolver);
        var send = Assert.Single(sent);
        Assert.Equal(resolver, send.Destination);
        var answer = RoundTrip(send.Message);
        Assert.Equal(0x4242, answer.Id);
        Assert.Single(answer.Questions);
        var srv = Assert.IsType<SRVRecord>(Assert.Single(answer.Answers));
        Assert.Equal(TimeSpan.FromSeconds(10), srv.TTL);
        Assert.False(MdnsNames.HasTopBit(srv.Class));
    }

    [Fact]
    public void Query_RightAfterAnnouncement_NotMulticastAgainWithinOneSecond()
    {
        var (_, sent) = AskAnnounced(Query((Instance, DnsType.SRV, false)), TimeSpan.FromMilliseconds(300));
        Assert.Empty(sent);
    }

    [Fact]
    public void Query_OtherResponderAnswersFirst_DuplicateSuppressed()
    {
        var (responder, clock) = Announced();
        clock.Advance(TimeSpan.FromSeconds(5));
        var output = new List<MdnsSend>();
        responder.Receive(RoundTrip(Query((Service, DnsType.PTR, false))), LinkA, Querier, output);
        // A mirror of ours answers within the 20-120 ms with the same PTR and full TTL (§7.4).
        var mirror = new Message { QR = true, AA = true };
        mirror.Answers.Add(new PTRRecord { Name = Service, DomainName = Instance, TTL = TimeSpan.FromMinutes(75) });
        responder.Receive(RoundTrip(mirror), LinkA, new IPEndPoint(AddressB, 5353), output);
        clock.Advance(TimeSpan.FromMilliseconds(200));
        responder.Tick(output);
        Assert.Empty(output);
        Assert.Equal(1, responder.Counters.DuplicateAnswersSuppressed);
    }

    [Fact]
    public void Query_ServiceTypeEnumeration_AnsweredWithOurType()
    {
        var (_, sent) = AskAnnounced(Query((MdnsNames.ServicesEnumeration, DnsType.PTR, false)), TimeSpan.FromSeconds(5));
        var ptr = Assert.IsType<PTRRecord>(Assert.Single(Assert.Single(sent).Message.Answers));
        Assert.Equal(Service, ptr.DomainName);
    }

    [Fact]
    public void Query_WhileProbing_NotAnswered()
    {
        var (responder, _, _) = FirstProbeSent();
        var output = new List<MdnsSend>();
        responder.Receive(RoundTrip(Query((Instance, DnsType.SRV, false))), LinkA, Querier, output);
        Assert.Empty(output);
    }

    [Fact]
    public void SetLinks_NewAddress_ProbesAndAnnouncesAgain()
    {
        var (responder, clock) = Announced();
        var moved = LinkA with { Addresses = [IPAddress.Parse("10.201.1.77")] };
        responder.SetLinks([moved]);
        Assert.Equal(MdnsResponderState.Probing, responder.State);
        var sent = RunToAnnounced(responder, clock);
        var a = sent.Last().Send.Message.Answers.OfType<ARecord>().Single();
        Assert.Equal(IPAddress.Parse("10.201.1.77"), a.Address);
    }
}
