using EdgeStream.Uplink.Fleet;
using EdgeStream.Uplink.Grpc;

namespace EdgeStream.Uplink.Tests;

/// <summary>The parent's record of the fleet below it: ages instead of clocks, the tree, bounds.</summary>
public sealed class FleetRegistryTests
{
    private long _now = 1_000_000;

    private FleetRegistry Registry() => new("cloud", () => _now);

    private static FleetReport Report(params NodeReport[] nodes)
    {
        var r = new FleetReport();
        r.Nodes.AddRange(nodes);
        return r;
    }

    [Fact]
    public void RelayedEntries_KeepTheirParent_AndAreHeardAtReceiveTimeMinusTheirAge()
    {
        var registry = Registry();
        registry.Accept("gw", Report(
            new NodeReport { NodeId = "gw", Role = "gateway" },
            new NodeReport { NodeId = "edge", Role = "edge", ParentId = "gw", AgeMs = 4_000 }));

        var byId = registry.Snapshot().ToDictionary(e => e.Report.NodeId);
        Assert.Equal("cloud", byId["gw"].Report.ParentId);   // its own report: the receiver is its parent
        Assert.Equal("gw", byId["edge"].Report.ParentId);    // relayed: as the gateway recorded it
        Assert.Equal(_now, byId["gw"].HeardAtMs);
        Assert.Equal(_now - 4_000, byId["edge"].HeardAtMs);

        _now += 1_000;
        var relayed = registry.ForRelay().ToDictionary(r => r.NodeId);
        Assert.Equal(1_000, relayed["gw"].AgeMs);
        Assert.Equal(5_000, relayed["edge"].AgeMs);
    }

    [Fact]
    public void AnOlderRelay_DoesNotReplaceANewerReport_AndItsOwnIdIsIgnored()
    {
        var registry = Registry();
        registry.Accept("gw-a", Report(new NodeReport { NodeId = "edge", ParentId = "gw-a", BacklogRecords = 1, AgeMs = 100 }));
        registry.Accept("gw-b", Report(
            new NodeReport { NodeId = "edge", ParentId = "gw-b", BacklogRecords = 2, AgeMs = 9_000 },
            new NodeReport { NodeId = "cloud", Role = "cloud" }));

        var entries = registry.Snapshot();
        var edge = Assert.Single(entries);
        Assert.Equal(1, edge.Report.BacklogRecords);
        Assert.Equal("gw-a", edge.Via);
    }

    [Fact]
    public void NodesNotHeardOfForAnHour_AreForgotten()
    {
        var registry = Registry();
        registry.Accept("edge", Report(new NodeReport { NodeId = "edge" }));
        _now += (long)FleetRegistry.ForgetAfter.TotalMilliseconds + 1;
        Assert.Empty(registry.Snapshot());
    }
}
