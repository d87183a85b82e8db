using System.Security.Cryptography;

namespace EdgeStream.Common.Security;

/// <summary>
/// A SCRAM variant (RFC 5802 with the hash of RFC 7677 / RFC 5802's SHA-512 sibling): its SASL
/// name, its hash, and the number Kafka's DescribeUserScramCredentials/AlterUserScramCredentials
/// give it (KIP-554: 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512).
/// </summary>
public sealed class ScramMechanism
{
    /// <summary>Kafka's bounds (ScramMechanism.java): fewer than 4096 iterations is refused (RFC 7677 §4 asks at least that), more than 16384 too.</summary>
    public const int MinIterations = 4096;
    public const int MaxIterations = 16384;

    public static readonly ScramMechanism Sha256 = new("SCRAM-SHA-256", HashAlgorithmName.SHA256, 32, 1);
    public static readonly ScramMechanism Sha512 = new("SCRAM-SHA-512", HashAlgorithmName.SHA512, 64, 2);

    /// <summary>Both, strongest first: the order PLAIN and MQTT try a user's credentials in.</summary>
    public static IReadOnlyList<ScramMechanism> All { get; } = [Sha512, Sha256];

    private ScramMechanism(string name, HashAlgorithmName hash, int keyBytes, sbyte kafkaType)
    {
        Name = name;
        Hash = hash;
        KeyBytes = keyBytes;
        KafkaType = kafkaType;
    }

    /// <summary>The SASL mechanism name, as clients and the store spell it.</summary>
    public string Name { get; }
    public HashAlgorithmName Hash { get; }
    /// <summary>Output size of the hash: the length of SaltedPassword, StoredKey, ServerKey and proofs.</summary>
    public int KeyBytes { get; }
    public sbyte KafkaType { get; }

    /// <summary>By SASL name, case-insensitive (<c>scram-sha-256</c> on a command line); null when not SCRAM.</summary>
    public static ScramMechanism? FromName(string name)
    {
        foreach (var m in All)
            if (string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) return m;
        return null;
    }

    public static ScramMechanism? FromKafkaType(sbyte type)
    {
        foreach (var m in All)
            if (m.KafkaType == type) return m;
        return null;
    }

    public byte[] Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) =>
        KeyBytes == 32 ? HMACSHA256.HashData(key, data) : HMACSHA512.HashData(key, data);

    public byte[] H(ReadOnlySpan<byte> data) => KeyBytes == 32 ? SHA256.HashData(data) : SHA512.HashData(data);

    /// <summary>
    /// RFC 5802 §2.2 Hi(str, salt, i): PBKDF2 with HMAC-H and one block of output. The password is
    /// its UTF-8 bytes without SASLprep, as Kafka's clients and broker do, so credentials made by
    /// either side agree.
    /// </summary>
    public byte[] SaltedPassword(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(System.Text.Encoding.UTF8.GetBytes(password), salt, iterations, Hash, KeyBytes);

    public override string ToString() => Name;
}
