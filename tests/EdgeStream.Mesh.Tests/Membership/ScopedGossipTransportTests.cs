using System.Net;
using EdgeStream.Mesh.Gossip;
using EdgeStream.Mesh.Membership;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Mesh.Tests.Membership;

/// <summary>Two scopes on one gossip port (127.0.0.1, ephemeral): each membership sees only its own scope's members.</summary>
public class ScopedGossipTransportTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static SwimMembership Create(string node, string role, string scope, IGossipTransport transport) => new(
        new MembershipOptions
        {
            NodeId = node,
            Role = role,
            ClusterName = "mux-test",
            Scope = scope,
            ProbeInterval = TimeSpan.FromMilliseconds(100),
            ProbeTimeout = TimeSpan.FromMilliseconds(40),
            SuspicionMinTimeout = TimeSpan.FromMilliseconds(500),
            SuspicionMaxTimeout = TimeSpan.FromMilliseconds(1500),
            PushPullInterval = TimeSpan.FromSeconds(2),
            LeavePropagationTime = TimeSpan.FromMilliseconds(100),
        },
        transport);

    [Fact]
    public async Task TwoScopesOnOnePort_JoinThroughTheSameSeed_EachSeesOnlyItsScope()
    {
        // gw: site + upstream on one port; edge: site only; cloud: upstream only.
        var gwMux = new ScopedGossipTransport(new UdpGossipTransport(new IPEndPoint(IPAddress.Loopback, 0)));
        var gwSite = Create("gw", "gateway", "site", gwMux.For("site"));
        var gwUp = Create("gw", "gateway", "upstream", gwMux.For("upstream"));
        var edge = Create("edge", "edge", "site", new UdpGossipTransport(new IPEndPoint(IPAddress.Loopback, 0)));
        var cloud = Create("cloud", "cloud", "upstream", new UdpGossipTransport(new IPEndPoint(IPAddress.Loopback, 0)));
        try
        {
            Assert.Equal(gwSite.LocalEndPoint, gwUp.LocalEndPoint);
            gwSite.Start();
            gwUp.Start();
            Assert.Equal(1, await edge.JoinAsync([gwMux.LocalEndPoint]));
            Assert.Equal(1, await cloud.JoinAsync([gwMux.LocalEndPoint]));

            Assert.True(await Wait.UntilAsync(() => gwSite.LiveCount == 2 && gwUp.LiveCount == 2 && edge.LiveCount == 2 && cloud.LiveCount == 2, Deadline),
                "scopes did not converge");
            Assert.DoesNotContain(gwSite.Members, m => m.NodeId == "cloud");
            Assert.DoesNotContain(gwUp.Members, m => m.NodeId == "edge");
            Assert.Equal(0, gwSite.Stats.ForeignScope + gwUp.Stats.ForeignScope);

            // The first scope to stop must not close the port under the other.
            await gwSite.LeaveAsync();
            Assert.True(await Wait.UntilAsync(() => edge.TryGetMember("gw", out var g) && g.State == MemberState.Left, Deadline), "leave not seen");
            await Task.Delay(TimeSpan.FromSeconds(1)); // several probe rounds of the upstream scope
            Assert.True(cloud.TryGetMember("gw", out var up) && up.State == MemberState.Alive);
        }
        finally
        {
            await gwSite.DisposeAsync();
            await gwUp.DisposeAsync();
            await edge.DisposeAsync();
            await cloud.DisposeAsync();
            await gwMux.DisposeAsync();
        }
    }

    [Fact]
    public async Task UnknownScope_IsDroppedAndCounted()
    {
        var mux = new ScopedGossipTransport(new UdpGossipTransport(new IPEndPoint(IPAddress.Loopback, 0)));
        var site = Create("a", "edge", "site", mux.For("site"));
        await using var sender = new UdpGossipTransport(new IPEndPoint(IPAddress.Loopback, 0));
        try
        {
            site.Start();
            var codec = new GossipCodec("mux-test", "elsewhere");
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            codec.WriteEnvelope(buffer, GossipMessageType.Ping, "x", 1, "a");
            sender.SendDatagram(mux.LocalEndPoint, buffer.WrittenSpan);
            sender.SendDatagram(mux.LocalEndPoint, new byte[] { 0xc1, 0x00 });
            Assert.True(await Wait.UntilAsync(() => mux.Unrouted == 2, Deadline), $"unrouted {mux.Unrouted}");
            Assert.Equal(0, site.Stats.ForeignScope);
            Assert.Throws<InvalidOperationException>(() => mux.For("site"));
        }
        finally
        {
            await site.DisposeAsync();
            await mux.DisposeAsync();
        }
    }

    [Fact]
    public void TryPeekScope_ReadsTheEnvelopesScope()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        new GossipCodec("c", "upstream").WriteEnvelope(buffer, GossipMessageType.Ack, "n", 7);
        Assert.True(GossipCodec.TryPeekScope(buffer.WrittenMemory, out var scope));
        Assert.Equal("upstream"u8.ToArray(), scope.ToArray());
        Assert.False(GossipCodec.TryPeekScope(new byte[] { 0x91, 0x01 }, out _));
        Assert.False(GossipCodec.TryPeekScope(ReadOnlyMemory<byte>.Empty, out _));
    }
}
