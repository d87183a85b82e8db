using EdgeStream.Mesh.Discovery;
using Makaretu.Dns;
using Xunit;
using static EdgeStream.Mesh.Tests.Discovery.MdnsTestKit;

namespace EdgeStream.Mesh.Tests.Discovery;

public class MdnsRecordTests
{
    [Fact]
    public void Announcement_HasPtrSrvTxtAndA_WithRfcClassesAndTtls()
    {
        var message = AnnouncementOf(Options(), LinkA);
        Assert.True(message.IsResponse && message.AA);
        Assert.Empty(message.Questions);

        var ptr = Assert.Single(message.Answers.OfType<PTRRecord>());
        Assert.Equal(Service, ptr.Name);
        Assert.Equal(MdnsNames.InstanceName("edge-a", Service), ptr.DomainName);
        Assert.Equal(DnsClass.IN, ptr.Class); // shared: never the cache-flush bit
        Assert.Equal(TimeSpan.FromMinutes(75), ptr.TTL);

        var srv = Assert.Single(message.Answers.OfType<SRVRecord>());
        Assert.Equal(ptr.DomainName, srv.Name);
        Assert.Equal(new DomainName("edge-a.local"), srv.Target);
        Assert.Equal(9095, srv.Port);
        Assert.True(MdnsNames.HasTopBit(srv.Class));
        Assert.Equal(TimeSpan.FromSeconds(120), srv.TTL);

        var txt = Assert.Single(message.Answers.OfType<TXTRecord>());
        Assert.Equal(["txtvers=1", "role=edge", "id=edge-a", "cluster=default", "uplink=9095", "gossip=7946"], txt.Strings);
        Assert.True(MdnsNames.HasTopBit(txt.Class));

        var a = Assert.Single(message.Answers.OfType<ARecord>());
        Assert.Equal(srv.Target, a.Name);
        Assert.Equal(AddressA, a.Address);
        Assert.True(MdnsNames.HasTopBit(a.Class));
        Assert.Equal(TimeSpan.FromSeconds(120), a.TTL);
    }

    [Fact]
    public void Txt_LongestIdsAndCluster_StaysUnder200Bytes()
    {
        var options = Options(nodeId: new string('n', 64), cluster: new string('c', 63));
        var txt = MdnsTxt.Build(options);
        Assert.True(MdnsTxt.Length(txt) < MdnsTxt.MaxLength, $"{MdnsTxt.Length(txt)} bytes");

        var message = AnnouncementOf(options, LinkA);
        var record = Assert.Single(message.Answers.OfType<TXTRecord>());
        Assert.True(record.GetData().Length < 200);
    }

    [Fact]
    public void Txt_ExtraPropertiesOver200Bytes_RejectedAtValidation()
    {
        var options = new MdnsOptions
        {
            NodeId = "edge-a", Role = "edge", Port = 1,
            Properties = new Dictionary<string, string> { ["x"] = new string('v', 160) },
        };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("under 200", ex.Message);
    }

    [Theory]
    [InlineData("id")]
    [InlineData("a=b")]
    [InlineData("")]
    [InlineData("tenletters")]
    public void Txt_BadOrReservedKey_Rejected(string key)
    {
        var options = new MdnsOptions { NodeId = "edge-a", Role = "edge", Port = 1, Properties = new Dictionary<string, string> { [key] = "v" } };
        Assert.Throws<ArgumentException>(options.Validate);
    }

    [Fact]
    public void TxtParse_FirstKeyWins_CaseInsensitive_BooleanAttribute()
    {
        var txt = MdnsTxt.Parse(["ID=one", "id=two", "flag", "=ignored", "uplink=70000"]);
        Assert.Equal("one", txt["id"]);
        Assert.Equal("", txt["flag"]);
        Assert.Equal(3, txt.Count);
        Assert.Equal(0, MdnsTxt.ParsePort(txt, "uplink"));
    }

    [Theory]
    [InlineData("node", 2, "node (2)")]
    [InlineData("node (2)", 3, "node (2) (3)")]
    public void RenameInstance_AddsNumberInParentheses(string name, int attempt, string expected) =>
        Assert.Equal(expected, MdnsNames.RenameInstance(name, attempt));

    [Fact]
    public void Rename_LongNames_StillFitOneLabel()
    {
        var instance = MdnsNames.RenameInstance(new string('é', 40), 12);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(instance) <= 63);
        Assert.EndsWith(" (12)", instance);
        var host = MdnsNames.RenameHost(new string('h', 63), 2);
        Assert.Equal(63, host.Length);
        Assert.True(MdnsNames.IsHostLabel(host));
    }

    [Theory]
    [InlineData("edge-1a2b", "edge-1a2b")]
    [InlineData("gw.site_1", "gw-site-1")]
    [InlineData("..", "edgestream")]
    public void HostLabelFrom_NodeId_KeepsLettersDigitsAndDashes(string nodeId, string expected) =>
        Assert.Equal(expected, MdnsNames.HostLabelFrom(nodeId));

    [Fact]
    public void InstanceName_WithDotsAndSpaces_StaysOneLabel()
    {
        var name = MdnsNames.InstanceName("edge a.b (2)", Service);
        Assert.Equal(4, name.Labels.Count);
        Assert.Equal("edge a.b (2)", MdnsNames.InstanceOf(name, Service));
        Assert.Null(MdnsNames.InstanceOf(Service, Service));
    }

    [Theory]
    [InlineData("_edgestream._tcp.local", true)]
    [InlineData("_edgestream._tcp.local.", true)]
    [InlineData("edgestream._tcp.local", false)]
    [InlineData("_edgestream._sctp.local", false)]
    [InlineData("_edgestream._tcp.example", false)]
    public void IsServiceType_AcceptsOnlyDnsSdForm(string value, bool valid) => Assert.Equal(valid, MdnsNames.IsServiceType(value));
}
