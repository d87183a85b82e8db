using System.Security.Cryptography;
using System.Text;
using EdgeStream.Mesh.Gossip;
using Xunit;

namespace EdgeStream.Mesh.Tests.Gossip;

/// <summary>The keyring's sealing: round trip, tampering, rotation with two keys, the wrong key, clear text.</summary>
public class GossipKeyringTests
{
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("test label");
    private static readonly byte[] Message = Encoding.ASCII.GetBytes("a gossip datagram of some length");

    private static byte[] NewKey(int bytes = 32) => RandomNumberGenerator.GetBytes(bytes);

    [Theory]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(32)]
    public void Seal_ThenOpen_GivesTheMessageBack(int keyBytes)
    {
        using var ring = new GossipKeyring([NewKey(keyBytes)]);

        var sealedMessage = ring.Seal(Message, Label);

        Assert.Equal(Message.Length + GossipKeyring.Overhead, sealedMessage.Length);
        Assert.Equal(GossipKeyring.Version, sealedMessage[0]);
        Assert.Equal(-1, sealedMessage.AsSpan().IndexOf(Message)); // the plaintext is not in the clear
        Assert.Equal(Message, ring.TryOpen(sealedMessage, Label));
    }

    [Fact]
    public void Seal_SameMessageTwice_DiffersByNonce()
    {
        using var ring = new GossipKeyring([NewKey()]);

        Assert.NotEqual(ring.Seal(Message, Label), ring.Seal(Message, Label));
    }

    [Fact]
    public void TryOpen_AnyByteFlipped_Fails()
    {
        using var ring = new GossipKeyring([NewKey()]);
        var sealedMessage = ring.Seal(Message, Label);

        for (var i = 0; i < sealedMessage.Length; i++)
        {
            var tampered = (byte[])sealedMessage.Clone();
            tampered[i] ^= 0x01;
            Assert.Null(ring.TryOpen(tampered, Label));
        }
    }

    [Fact]
    public void TryOpen_TruncatedOrOtherLabel_Fails()
    {
        using var ring = new GossipKeyring([NewKey()]);
        var sealedMessage = ring.Seal(Message, Label);

        Assert.Null(ring.TryOpen(sealedMessage.AsSpan(0, sealedMessage.Length - 1), Label));
        Assert.Null(ring.TryOpen(sealedMessage.AsSpan(0, GossipKeyring.Overhead - 1), Label));
        Assert.Null(ring.TryOpen(sealedMessage, Encoding.ASCII.GetBytes("other label")));
    }

    [Fact]
    public void TryOpen_WrongKey_Fails()
    {
        using var ours = new GossipKeyring([NewKey()]);
        using var theirs = new GossipKeyring([NewKey()]);

        Assert.Null(ours.TryOpen(theirs.Seal(Message, Label), Label));
    }

    [Fact]
    public void TryOpen_ClearText_Fails()
    {
        using var ring = new GossipKeyring([NewKey()]);
        var clear = new byte[64];
        clear[0] = GossipKeyring.Version; // even a clear datagram that happens to start like a sealed one

        Assert.Null(ring.TryOpen(clear, Label));
        Assert.Null(ring.TryOpen(Message, Label));
    }

    [Fact]
    public void Rotation_TwoKeys_EitherOpensAndTheFirstSeals()
    {
        var oldKey = NewKey();
        var newKey = NewKey(16);
        using var oldOnly = new GossipKeyring([oldKey]);
        using var newOnly = new GossipKeyring([newKey]);
        // Step 1 of a rotation: the new key is added as a secondary; step 2: it becomes the primary.
        using var oldPrimary = new GossipKeyring([oldKey, newKey]);
        using var newPrimary = new GossipKeyring([newKey, oldKey]);

        Assert.Equal(Message, oldPrimary.TryOpen(newOnly.Seal(Message, Label), Label));
        Assert.Equal(Message, oldPrimary.TryOpen(oldOnly.Seal(Message, Label), Label));
        Assert.Equal(Message, newPrimary.TryOpen(oldPrimary.Seal(Message, Label), Label));
        // What a ring sends is sealed with its first key only.
        Assert.Equal(Message, oldOnly.TryOpen(oldPrimary.Seal(Message, Label), Label));
        Assert.Null(newOnly.TryOpen(oldPrimary.Seal(Message, Label), Label));
        Assert.Equal(Message, newOnly.TryOpen(newPrimary.Seal(Message, Label), Label));
        Assert.Null(oldOnly.TryOpen(newPrimary.Seal(Message, Label), Label));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(33)]
    public void Constructor_KeyOfWrongLength_Throws(int bytes)
    {
        Assert.Throws<MeshException>(() => new GossipKeyring([new byte[bytes]]));
    }

    [Fact]
    public void Constructor_NoKey_Throws()
    {
        Assert.Throws<MeshException>(() => new GossipKeyring([]));
    }
}
