using System.Diagnostics;
using System.Text.Json;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Mesh.Tests.Discovery;

/// <summary>The namespace tests run one at a time: each starts several processes, and the machine may have two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetnsCollection
{
    public const string Name = "network namespaces";
}

/// <summary>
/// Real processes on a LAN of network namespaces (see <see cref="NetnsLan"/>): our discovery host finding
/// its peers, a goodbye, a TTL expiry, clusters kept apart, a name conflict, hostile packets.
/// </summary>
[Collection(NetnsCollection.Name)]
public class MdnsNamespaceTests
{
    // dotnet start-up on a busy machine, then 0.25 s + 3 × 250 ms of probing and the first query.
    private static readonly TimeSpan Discovery = TimeSpan.FromSeconds(60);

    [NetnsFact]
    public async Task TwoNodes_NoAddressesOrInterfacesGiven_FindEachOther()
    {
        using var lan = NetnsLan.Create(2);
        using var a = NamespacedProcess.DiscoveryHost("a", lan.Nodes[0], "--node-id", "edge-a");
        using var b = NamespacedProcess.DiscoveryHost("b", lan.Nodes[1], "--node-id", "gw-b", "--role", "gateway", "--port", "9095", "--uplink-port", "9095", "--gossip-port", "7946");

        await a.WaitForAsync(p => p.Saw("found", "gw-b"), Discovery, "peer gw-b found");
        await b.WaitForAsync(p => p.Saw("found", "edge-a"), Discovery, "peer edge-a found");

        var seenByA = a.Of("found").Single(e => e.GetProperty("nodeId").GetString() == "gw-b");
        Assert.Equal("gw-b", seenByA.GetProperty("instance").GetString());
        Assert.Equal("gateway", seenByA.GetProperty("role").GetString());
        Assert.Equal("default", seenByA.GetProperty("cluster").GetString());
        Assert.Equal("gw-b.local", seenByA.GetProperty("host").GetString());
        Assert.Equal(9095, seenByA.GetProperty("port").GetInt32());
        Assert.Equal(9095, seenByA.GetProperty("uplinkPort").GetInt32());
        Assert.Equal(7946, seenByA.GetProperty("gossipPort").GetInt32());
        Assert.Contains(lan.Address(2), Addresses(seenByA));
        Assert.Contains(lan.Address(1), Addresses(b.Of("found").Single()));
        Assert.DoesNotContain(a.Events, e => e.TryGetProperty("nodeId", out var id) && id.GetString() == "edge-a"); // never itself

        a.Terminate();
        b.Terminate();
        Assert.Equal(0, await a.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await b.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var counters = a.Of("stopped").Single();
        Assert.Equal(0, counters.GetProperty("malformedDropped").GetInt64());
        Assert.Equal(0, counters.GetProperty("conflicts").GetInt64());
    }

    [NetnsFact]
    public async Task CleanStop_Goodbye_RemovesTheNodeAtOnce()
    {
        using var lan = NetnsLan.Create(2);
        // Default TTLs (120 s and 75 min): a removal within seconds can only come from the goodbye.
        using var a = NamespacedProcess.DiscoveryHost("a", lan.Nodes[0], "--node-id", "edge-a");
        using var b = NamespacedProcess.DiscoveryHost("b", lan.Nodes[1], "--node-id", "gw-b");
        await a.WaitForAsync(p => p.Saw("found", "gw-b"), Discovery, "peer gw-b found");
        await b.WaitForAsync(p => p.Of("claimed").Count > 0, Discovery, "names claimed");

        var stopped = Stopwatch.StartNew();
        b.Terminate();
        Assert.Equal(0, await b.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await a.WaitForAsync(p => p.Saw("lost", "gw-b"), TimeSpan.FromSeconds(15), "peer gw-b lost after its goodbye");
        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(15), $"lost after {stopped.Elapsed}");
        Assert.Single(b.Of("stopped"));
    }

    [NetnsFact]
    public async Task KilledNode_RemovedWhenItsRecordsExpire()
    {
        using var lan = NetnsLan.Create(2);
        using var a = NamespacedProcess.DiscoveryHost("a", lan.Nodes[0], "--node-id", "edge-a", "--ttl", "4");
        using var b = NamespacedProcess.DiscoveryHost("b", lan.Nodes[1], "--node-id", "gw-b", "--ttl", "4");
        await a.WaitForAsync(p => p.Saw("found", "gw-b"), Discovery, "peer gw-b found");
        await b.WaitForAsync(p => p.Of("claimed").Count > 0, Discovery, "names claimed");
        Assert.False(a.Saw("lost", "gw-b"), a.Describe()); // refresh queries kept it while it was alive

        var killed = Stopwatch.StartNew();
        b.KillHard(); // no goodbye
        await a.WaitForAsync(p => p.Saw("lost", "gw-b"), TimeSpan.FromSeconds(30), "peer gw-b lost by TTL expiry");
        // At most one TTL after its last answer, plus the loop's slack.
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(4 + 6), $"lost after {killed.Elapsed}");
    }

    [NetnsFact]
    public async Task TwoClusters_OnOneLan_StayApart()
    {
        using var lan = NetnsLan.Create(4);
        using var a = NamespacedProcess.DiscoveryHost("a", lan.Nodes[0], "--node-id", "edge-a");
        using var b = NamespacedProcess.DiscoveryHost("b", lan.Nodes[1], "--node-id", "edge-b");
        using var c = NamespacedProcess.DiscoveryHost("c", lan.Nodes[2], "--node-id", "edge-c", "--cluster", "blue");
        using var d = NamespacedProcess.DiscoveryHost("d", lan.Nodes[3], "--node-id", "edge-d", "--cluster", "blue");

        await a.WaitForAsync(p => p.Saw("found", "edge-b"), Discovery, "same-cluster peer edge-b");
        await b.WaitForAsync(p => p.Saw("found", "edge-a"), Discovery, "same-cluster peer edge-a");
        await c.WaitForAsync(p => p.Saw("found", "edge-d"), Discovery, "same-cluster peer edge-d");
        await d.WaitForAsync(p => p.Saw("found", "edge-c"), Discovery, "same-cluster peer edge-c");
        // Every node answered every other's queries by now; none may have reported one of the other fleet.
        foreach (var p in (NamespacedProcess[])[a, b, c, d])
            Assert.Single(p.Of("found"));
    }

    [NetnsFact]
    public async Task RestrictedToOneInterface_NotSeenOnTheOther()
    {
        // Node a sits on two LANs (eth0 on the first, eth1 on the second) and is told to use eth0 only.
        // (Unrestricted, the second LAN finds it at its eth1 address.)
        using var first = NetnsLan.Create(2);
        using var second = NetnsLan.Create(2);
        first.Connect(1, second, "eth1");
        using var a = NamespacedProcess.DiscoveryHost("a", first.Nodes[0], "--node-id", "edge-a", "--interface", "eth0");
        using var b = NamespacedProcess.DiscoveryHost("b", first.Nodes[1], "--node-id", "edge-b");
        using var c = NamespacedProcess.DiscoveryHost("c", second.Nodes[0], "--node-id", "edge-c");
        using var d = NamespacedProcess.DiscoveryHost("d", second.Nodes[1], "--node-id", "edge-d");

        await a.WaitForAsync(p => p.Saw("found", "edge-b"), Discovery, "peer edge-b on eth0");
        await b.WaitForAsync(p => p.Saw("found", "edge-a"), Discovery, "peer edge-a on the first LAN");
        await c.WaitForAsync(p => p.Saw("found", "edge-d"), Discovery, "peer edge-d on the second LAN");
        await d.WaitForAsync(p => p.Saw("found", "edge-c"), Discovery, "peer edge-c on the second LAN");
        // a neither answers nor listens on eth1: the second LAN never hears of it, nor it of them.
        Assert.False(c.Saw("found", "edge-a") || d.Saw("found", "edge-a"), c.Describe() + d.Describe());
        Assert.Single(a.Of("found"));
        Assert.Equal([first.Address(1)], Addresses(b.Of("found").Single()).Where(x => !x.StartsWith("fe80", StringComparison.Ordinal)));
    }

    [NetnsFact]
    public async Task SameInstanceName_TheLaterNodeRenamesItselfTwo()
    {
        using var lan = NetnsLan.Create(2);
        using var a = NamespacedProcess.DiscoveryHost("a", lan.Nodes[0], "--node-id", "edge-a", "--instance", "plant 7");
        await a.WaitForAsync(p => p.Of("claimed").Count > 0, Discovery, "names claimed");
        using var b = NamespacedProcess.DiscoveryHost("b", lan.Nodes[1], "--node-id", "edge-b", "--instance", "plant 7");
        await b.WaitForAsync(p => p.Of("claimed").Count > 0, Discovery, "names claimed");

        Assert.Equal("plant 7", a.Of("claimed").Single().GetProperty("instance").GetString());
        Assert.Equal("plant 7 (2)", b.Of("claimed").Single().GetProperty("instance").GetString());
        await a.WaitForAsync(p => p.Of("found").Exists(e => e.GetProperty("instance").GetString() == "plant 7 (2)"), Discovery, "the renamed peer");
    }

    [NetnsFact]
    public async Task HostilePackets_IgnoredAndCounted_DiscoveryGoesOn()
    {
        using var lan = NetnsLan.Create(3);
        using var a = NamespacedProcess.DiscoveryHost("a", lan.Nodes[0], "--node-id", "edge-a");
        await a.WaitForAsync(p => p.Of("claimed").Count > 0, Discovery, "names claimed");

        // From a third namespace: compression loops, lengths past the end, impossible counts, random bytes.
        const string Flood = """
            import os, socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
            hdr = lambda qd, an: bytes([0, 0, 0x84, 0, 0, qd, 0, an, 0, 0, 0, 0])
            packets = [
                hdr(1, 0) + bytes([0xC0, 12, 0, 1, 0, 1]),
                hdr(1, 0) + bytes([1, 97, 0xC0, 12, 0, 1, 0, 1]),
                hdr(1, 0) + bytes([50, 97, 98, 0, 0, 1, 0, 1]),
                hdr(0, 1) + bytes([0, 0, 1, 0, 1, 0, 0, 0, 120, 0x40, 0, 10, 0, 0, 1]),
                bytes([0, 0, 0x84, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 1, 0, 1]),
                bytes([1, 2, 3]),
            ]
            # Paced: a burst beyond the receiver's socket buffer would be dropped by the kernel, uncounted.
            for i in range(100):
                for p in packets + [hdr(2, 3) + os.urandom(200)]:
                    s.sendto(p, ("224.0.0.251", 5353))
                    time.sleep(0.001)
            print("sent", 700)
            """;
        var (code, stdout, stderr) = ExternalTool.Run("ip", ["netns", "exec", lan.Nodes[2], "/usr/bin/python3", "-c", Flood], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, stdout + stderr);

        using var b = NamespacedProcess.DiscoveryHost("b", lan.Nodes[1], "--node-id", "edge-b");
        await a.WaitForAsync(p => p.Saw("found", "edge-b"), Discovery, "peer edge-b found after the flood");
        await b.WaitForAsync(p => p.Saw("found", "edge-a"), Discovery, "peer edge-a found after the flood");

        a.Terminate();
        Assert.Equal(0, await a.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var counters = a.Of("stopped").Single();
        var dropped = counters.GetProperty("malformedDropped").GetInt64() + counters.GetProperty("undecodableDropped").GetInt64();
        // The 600 crafted ones at least (a random one may happen to be a valid message).
        Assert.True(dropped >= 600, $"only {dropped} of 700 hostile packets counted as dropped\n{a.Describe()}");
    }

    internal static List<string> Addresses(JsonElement found) =>
        [.. found.GetProperty("addresses").EnumerateArray().Select(x => x.GetString()!)];
}
