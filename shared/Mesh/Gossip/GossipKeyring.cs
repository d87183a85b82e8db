using System.Security.Cryptography;

namespace EdgeStream.Mesh.Gossip;

/// <summary>
/// The cluster keys gossip is sealed with (AES-GCM), as memberlist's keyring: messages are sealed
/// with the primary key (the first) and opened with whichever key of the ring authenticates them, so
/// during a rotation a node accepts the old and the new key while its peers switch.
/// <code>
/// sealed := version=1 (1 byte) | nonce (12 random bytes) | ciphertext | tag (16 bytes)
///           the additional data is the caller's label (which channel: datagram or push-pull)
/// </code>
/// No I/O. Thread-safe: each key's <see cref="AesGcm"/> is used under its own lock.
/// </summary>
public sealed class GossipKeyring : IDisposable
{
    /// <summary>The format version, first byte of every sealed message.</summary>
    public const byte Version = 1;

    public const int NonceSize = 12;
    public const int TagSize = 16;

    /// <summary>Bytes a sealed message has beyond its plaintext (version, nonce, tag): 29.</summary>
    public const int Overhead = 1 + NonceSize + TagSize;

    private readonly AesGcm[] _keys;

    /// <summary>
    /// <paramref name="keys"/>: 16, 24 or 32 bytes each (AES-128/192/256); the first is the primary,
    /// the others are only tried when opening.
    /// </summary>
    public GossipKeyring(IReadOnlyList<byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) throw new MeshException("a gossip keyring needs at least one key");
        foreach (var key in keys)
            if (!IsValidKeyLength(key.Length)) throw new MeshException($"a gossip key is 16, 24 or 32 bytes, not {key.Length}");
        _keys = [.. keys.Select(k => new AesGcm(k, TagSize))];
    }

    /// <summary>Keys in the ring, the primary included.</summary>
    public int Count => _keys.Length;

    public static bool IsValidKeyLength(int bytes) => bytes is 16 or 24 or 32;

    /// <summary>Length of <paramref name="plaintextLength"/> bytes once sealed.</summary>
    public static int SealedLength(int plaintextLength) => plaintextLength + Overhead;

    /// <summary>Seals <paramref name="plaintext"/> with the primary key into <paramref name="destination"/> (at least <see cref="SealedLength"/> bytes); returns the bytes written.</summary>
    public int Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> label, Span<byte> destination)
    {
        var length = SealedLength(plaintext.Length);
        if (destination.Length < length) throw new ArgumentException($"the destination holds {destination.Length} bytes, sealing needs {length}", nameof(destination));
        destination[0] = Version;
        var nonce = destination.Slice(1, NonceSize);
        // Random nonces, as memberlist: no counter to keep across restarts; 2^32 messages per key stay far from a collision.
        RandomNumberGenerator.Fill(nonce);
        var ciphertext = destination.Slice(1 + NonceSize, plaintext.Length);
        var tag = destination.Slice(1 + NonceSize + plaintext.Length, TagSize);
        var primary = _keys[0];
        lock (primary) primary.Encrypt(nonce, plaintext, ciphertext, tag, label);
        return length;
    }

    /// <summary>Seals into a new array.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> label)
    {
        var sealedMessage = new byte[SealedLength(plaintext.Length)];
        Seal(plaintext, label, sealedMessage);
        return sealedMessage;
    }

    /// <summary>
    /// Opens <paramref name="sealedMessage"/> into <paramref name="destination"/> (at least its length minus
    /// <see cref="Overhead"/>), trying the primary key then the others. False, and nothing to use, when it is
    /// too short, of another version, or no key authenticates it (tampered, another key, clear text).
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> sealedMessage, ReadOnlySpan<byte> label, Span<byte> destination, out int written)
    {
        written = 0;
        if (sealedMessage.Length < Overhead || sealedMessage[0] != Version) return false;
        var length = sealedMessage.Length - Overhead;
        if (destination.Length < length) throw new ArgumentException($"the destination holds {destination.Length} bytes, opening needs {length}", nameof(destination));
        var nonce = sealedMessage.Slice(1, NonceSize);
        var ciphertext = sealedMessage.Slice(1 + NonceSize, length);
        var tag = sealedMessage.Slice(1 + NonceSize + length, TagSize);
        var plaintext = destination[..length];
        foreach (var key in _keys)
        {
            try
            {
                lock (key) key.Decrypt(nonce, ciphertext, tag, plaintext, label);
                written = length;
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                // Not this key (or not authentic at all): the next one may be the peer's primary.
            }
        }
        plaintext.Clear();
        return false;
    }

    /// <summary>Opens into a new array; null when no key authenticates it.</summary>
    public byte[]? TryOpen(ReadOnlySpan<byte> sealedMessage, ReadOnlySpan<byte> label)
    {
        if (sealedMessage.Length < Overhead) return null;
        var plaintext = new byte[sealedMessage.Length - Overhead];
        return TryOpen(sealedMessage, label, plaintext, out _) ? plaintext : null;
    }

    public void Dispose()
    {
        foreach (var key in _keys) key.Dispose();
    }
}
