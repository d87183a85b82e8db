using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using EdgeStream.Mesh.Gossip;
using EdgeStream.Mesh.Membership;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Mesh.Tests.Membership;

/// <summary>
/// Sealed gossip between real memberships on 127.0.0.1 (ephemeral ports, nothing leaves the loopback):
/// the same key forms a membership; another key, or none, never does, and what it sends is dropped and counted.
/// </summary>
public class EncryptedGossipTransportTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static IPEndPoint AnyLoopback => new(IPAddress.Loopback, 0);

    private static EncryptedGossipTransport Sealed(params byte[][] keys) => new(new UdpGossipTransport(AnyLoopback), new GossipKeyring(keys));

    private static SwimMembership Create(string node, IGossipTransport transport) => new(
        new MembershipOptions
        {
            NodeId = node,
            Role = "edge",
            ClusterName = "key-test",
            ProbeInterval = TimeSpan.FromMilliseconds(100),
            ProbeTimeout = TimeSpan.FromMilliseconds(40),
            SuspicionMinTimeout = TimeSpan.FromMilliseconds(500),
            SuspicionMaxTimeout = TimeSpan.FromMilliseconds(1500),
            PushPullInterval = TimeSpan.FromSeconds(1),
            LeavePropagationTime = TimeSpan.FromMilliseconds(100),
        },
        transport);

    [Fact]
    public async Task SameKey_Joins_AndAWrongKeyOrNoKeyNeverDoes()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var aTransport = Sealed(key);
        var bTransport = Sealed(key);
        var wrongTransport = Sealed(RandomNumberGenerator.GetBytes(32));
        var a = Create("a", aTransport);
        var b = Create("b", bTransport);
        var wrong = Create("wrong", wrongTransport);
        var clear = Create("clear", new UdpGossipTransport(AnyLoopback));
        try
        {
            a.Start();
            Assert.Equal(1, await b.JoinAsync([a.LocalEndPoint]));
            Assert.True(await Wait.UntilAsync(() => a.LiveCount == 2 && b.LiveCount == 2 && a.Stats.PushPulls > 1, Deadline), "same key did not converge");

            Assert.Equal(0, await wrong.JoinAsync([a.LocalEndPoint]));
            Assert.Equal(0, await clear.JoinAsync([a.LocalEndPoint]));
            // And the other way: a keyed node cannot join through a clear one either.
            var c = Create("c", Sealed(key));
            await using (c)
                Assert.Equal(0, await c.JoinAsync([clear.LocalEndPoint]));

            Assert.True(aTransport.ExchangesRejected >= 2, $"rejected exchanges: {aTransport.ExchangesRejected}");
            Assert.True(clear.Stats.Malformed >= 1, "the clear node read a sealed request as gossip");
            Assert.Equal(2, a.LiveCount);
            Assert.DoesNotContain(a.Members, m => m.NodeId is "wrong" or "clear" or "c");
            Assert.Equal(1, wrong.LiveCount);
            Assert.Equal(0, aTransport.DatagramsRejected + bTransport.DatagramsRejected);
            Assert.Equal(0, a.Stats.Malformed + b.Stats.Malformed);
        }
        finally
        {
            foreach (var m in new[] { a, b, wrong, clear }) await m.DisposeAsync();
        }
    }

    [Fact]
    public async Task Datagram_ClearOrOtherKey_IsDroppedAndCounted()
    {
        var key = RandomNumberGenerator.GetBytes(16);
        await using var receiver = Sealed(key);
        var delivered = new Receiver();
        receiver.Start(delivered);
        await using var sender = Sealed(key);
        await using var otherKey = Sealed(RandomNumberGenerator.GetBytes(16));
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        raw.Bind(AnyLoopback);

        raw.SendTo(new byte[] { 1, 2, 3, 4, 5 }, receiver.LocalEndPoint);
        raw.SendTo(new byte[100], receiver.LocalEndPoint);
        otherKey.SendDatagram(receiver.LocalEndPoint, [9, 9, 9]);
        Assert.True(await Wait.UntilAsync(() => receiver.DatagramsRejected == 3, Deadline), $"rejected: {receiver.DatagramsRejected}");
        sender.SendDatagram(receiver.LocalEndPoint, [7, 7, 7]);
        Assert.True(await Wait.UntilAsync(() => delivered.Count == 1, Deadline), "the datagram sealed with the key was not delivered");

        Assert.Equal([7, 7, 7], delivered.Last);
        Assert.Equal(3, receiver.DatagramsRejected);
    }

    [Fact]
    public async Task Rotation_NewKeyAddedThenPrimaryThenOldRemoved_MembershipHoldsThroughout()
    {
        var oldKey = RandomNumberGenerator.GetBytes(32);
        var newKey = RandomNumberGenerator.GetBytes(32);
        // Mid-rotation: one node already sends with the new key, the other still with the old; both accept both.
        var a = Create("a", Sealed(newKey, oldKey));
        var b = Create("b", Sealed(oldKey, newKey));
        var late = Create("late", Sealed(newKey)); // a node set up after the rotation finished
        try
        {
            a.Start();
            Assert.Equal(1, await b.JoinAsync([a.LocalEndPoint]));
            Assert.Equal(1, await late.JoinAsync([a.LocalEndPoint]));
            Assert.True(await Wait.UntilAsync(() => a.LiveCount == 3 && b.LiveCount == 3 && late.LiveCount == 3, Deadline), "rotation split the membership");
        }
        finally
        {
            foreach (var m in new[] { a, b, late }) await m.DisposeAsync();
        }
    }

    private sealed class Receiver : IGossipReceiver
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public byte[] Last { get; private set; } = [];

        public void OnDatagram(IPEndPoint from, ReadOnlyMemory<byte> datagram)
        {
            Last = datagram.ToArray();
            Interlocked.Increment(ref _count);
        }

        public byte[]? OnExchange(IPEndPoint from, ReadOnlyMemory<byte> request) => null;
    }
}
