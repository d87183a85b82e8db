using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Mesh.Tests.Discovery;

/// <summary>
/// Interoperability with an mDNS implementation that is not ours: Debian's python3-zeroconf browses and
/// resolves our service, and our browser finds a service it registers; each in its own namespace of one LAN.
/// </summary>
[Collection(NetnsCollection.Name)]
public class ZeroconfInteropTests
{
    private static readonly TimeSpan Discovery = TimeSpan.FromSeconds(60);

    private static void RequireZeroconf()
    {
        var (code, _, stderr) = ExternalTool.Run("/usr/bin/python3", ["-c", "import zeroconf"], timeout: TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"python3-zeroconf is missing (apt-get install -y python3-zeroconf): {stderr}");
    }

    [NetnsFact]
    public async Task Zeroconf_BrowsesAndResolvesOurService()
    {
        RequireZeroconf();
        using var lan = NetnsLan.Create(2);
        using var ours = NamespacedProcess.DiscoveryHost("ours", lan.Nodes[0], "--node-id", "edge-a", "--port", "9095", "--uplink-port", "9095", "--gossip-port", "7946");
        await ours.WaitForAsync(p => p.Of("claimed").Count > 0, Discovery, "names claimed");

        using var zeroconf = NamespacedProcess.Zeroconf("zeroconf", lan.Nodes[1], "browse", "_edgestream._tcp.local.", "30", "1");
        await zeroconf.WaitForExitAsync(TimeSpan.FromSeconds(60));

        var resolved = Assert.Single(zeroconf.Of("resolved"));
        Assert.Equal("edge-a._edgestream._tcp.local.", resolved.GetProperty("name").GetString());
        Assert.Equal("edge-a.local.", resolved.GetProperty("server").GetString());
        Assert.Equal(9095, resolved.GetProperty("port").GetInt32());
        Assert.Contains(lan.Address(1), MdnsNamespaceTests.Addresses(resolved));
        var txt = resolved.GetProperty("txt");
        Assert.Equal("1", txt.GetProperty("txtvers").GetString());
        Assert.Equal("edge", txt.GetProperty("role").GetString());
        Assert.Equal("edge-a", txt.GetProperty("id").GetString());
        Assert.Equal("default", txt.GetProperty("cluster").GetString());
        Assert.Equal("9095", txt.GetProperty("uplink").GetString());
        Assert.Equal("7946", txt.GetProperty("gossip").GetString());
    }

    [NetnsFact]
    public async Task OurBrowser_FindsAServiceZeroconfRegisters_AndItsGoodbye()
    {
        RequireZeroconf();
        using var lan = NetnsLan.Create(2);
        using var zeroconf = NamespacedProcess.Zeroconf("zeroconf", lan.Nodes[1], "register", "_edgestream._tcp.local.", "zc node", "9999", lan.Address(2),
            "txtvers=1", "role=gateway", "id=zc-1", "cluster=default", "uplink=9999", "gossip=7000");
        await zeroconf.WaitForAsync(p => p.Of("registered").Count > 0, Discovery, "service registered");

        using var ours = NamespacedProcess.DiscoveryHost("ours", lan.Nodes[0], "--node-id", "edge-a", "--no-advertise");
        await ours.WaitForAsync(p => p.Saw("found", "zc-1"), Discovery, "the zeroconf service");
        var found = ours.Of("found").Single();
        Assert.Equal("zc node", found.GetProperty("instance").GetString());
        Assert.Equal("gateway", found.GetProperty("role").GetString());
        Assert.Equal(9999, found.GetProperty("port").GetInt32());
        Assert.Equal(9999, found.GetProperty("uplinkPort").GetInt32());
        Assert.Equal(7000, found.GetProperty("gossipPort").GetInt32());
        Assert.Contains(lan.Address(2), MdnsNamespaceTests.Addresses(found));

        zeroconf.Terminate(); // zeroconf unregisters: its goodbye
        await ours.WaitForAsync(p => p.Saw("lost", "zc-1"), TimeSpan.FromSeconds(20), "the zeroconf service's goodbye");
    }
}
