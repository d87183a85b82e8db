using System.Net;
using EdgeStream.Mesh.Membership;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Mesh.Tests.Membership;

/// <summary>
/// The real transport on 127.0.0.1 with ephemeral ports (nothing is ever sent off the loopback),
/// real time, and timings shortened so a run takes a few seconds.
/// </summary>
public class UdpMembershipTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static SwimMembership Create(int i) => new(
        new MembershipOptions
        {
            NodeId = $"udp-{i}",
            Role = i == 0 ? "gateway" : "edge",
            ClusterName = "udp-test",
            ProbeInterval = TimeSpan.FromMilliseconds(100),
            ProbeTimeout = TimeSpan.FromMilliseconds(40),
            SuspicionMinTimeout = TimeSpan.FromMilliseconds(500),
            SuspicionMaxTimeout = TimeSpan.FromMilliseconds(1500),
            PushPullInterval = TimeSpan.FromSeconds(2),
            LeavePropagationTime = TimeSpan.FromMilliseconds(300),
        },
        new UdpGossipTransport(new IPEndPoint(IPAddress.Loopback, 0)));

    [Fact]
    public async Task Loopback_FiveMembers_JoinDetectAStoppedOneAndSeeAGracefulLeave()
    {
        var members = Enumerable.Range(0, 5).Select(Create).ToList();
        try
        {
            Assert.All(members, m => Assert.Equal(IPAddress.Loopback, m.LocalEndPoint.Address));
            members[0].Start();
            var seeds = new[] { members[0].LocalEndPoint };
            var joined = await Task.WhenAll(members.Skip(1).Select(m => m.JoinAsync(seeds)));
            Assert.All(joined, n => Assert.Equal(1, n));
            Assert.True(await Wait.UntilAsync(() => members.All(m => m.Members.Count(x => x.State == MemberState.Alive) == 5), Deadline), "members did not converge");

            // A crash: stopped without a leave. The others must declare it dead, not left.
            var crashed = members[3];
            await crashed.DisposeAsync();
            var rest = members.Where(m => m != crashed).ToList();
            Assert.True(await Wait.UntilAsync(() => rest.All(m => m.TryGetMember(crashed.LocalNodeId, out var x) && x.State == MemberState.Dead), Deadline),
                "the stopped member was not declared dead");

            // A graceful leave: seen as left, quickly.
            var leaver = members[4];
            await leaver.LeaveAsync();
            var stay = rest.Where(m => m != leaver).ToList();
            Assert.True(await Wait.UntilAsync(() => stay.All(m => m.TryGetMember(leaver.LocalNodeId, out var x) && x.State == MemberState.Left), Deadline),
                "the leave was not seen");
            Assert.All(stay, m => Assert.Equal(3, m.LiveCount));
            Assert.All(stay, m => Assert.True(m.Stats.PushPulls > 0 && m.Stats.Malformed == 0));
        }
        finally
        {
            foreach (var m in members) await m.DisposeAsync();
        }
    }

    [Fact]
    public async Task ExchangeAsync_NobodyListening_ThrowsMeshException()
    {
        await using var transport = new UdpGossipTransport(new IPEndPoint(IPAddress.Loopback, 0));
        var closedPort = new UdpGossipTransport(new IPEndPoint(IPAddress.Loopback, 0));
        var target = closedPort.LocalEndPoint;
        await closedPort.DisposeAsync();
        await Assert.ThrowsAsync<MeshException>(() => transport.ExchangeAsync(target, new byte[] { 1 }, TimeSpan.FromSeconds(2)));
    }
}
