using System.Diagnostics.CodeAnalysis;

namespace EdgeStream.Kafka.Protocol;

/// <summary>
/// Bytes on the wire do not follow the Kafka protocol: a bad length, a truncated field, an unknown
/// API key or version. Framing violations close the connection; the rest can be answered with an error code.
/// </summary>
public class KafkaProtocolException : EdgeStreamException
{
    public KafkaProtocolException(string message) : base(message) { }
    public KafkaProtocolException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A request names an API key or version this codec does not implement. The header was read, so the
/// caller knows the correlation id and can answer UNSUPPORTED_VERSION (error code 35).
/// </summary>
public sealed class UnsupportedVersionException : KafkaProtocolException
{
    public UnsupportedVersionException(short apiKey, short apiVersion, string message) : base(message)
    {
        ApiKey = apiKey;
        ApiVersion = apiVersion;
    }

    public short ApiKey { get; }
    public short ApiVersion { get; }

    /// <summary>The request header, when it was read (so the reply can carry its correlation id).</summary>
    public Primitives.RequestHeader? Header { get; init; }
}

/// <summary>Small throw helpers so hot methods stay small and inlineable.</summary>
public static class KafkaThrow
{
    [DoesNotReturn]
    public static void Truncated(string what) =>
        throw new KafkaProtocolException($"truncated input while reading {what}");

    [DoesNotReturn]
    public static void BadLength(string what, long length, long limit) =>
        throw new KafkaProtocolException($"{what}: length {length} is invalid (limit {limit})");

    [DoesNotReturn]
    public static void Invalid(string message) => throw new KafkaProtocolException(message);

    /// <summary>For throw expressions: <c>x ?? throw KafkaThrow.NullField("X")</c>.</summary>
    public static KafkaProtocolException NullField(string field) =>
        new($"non-nullable field {field} was null");

    [DoesNotReturn]
    public static void UnsupportedVersion(short apiKey, short version) => throw Unsupported(apiKey, version);

    /// <summary>For throw expressions and switch arms.</summary>
    public static UnsupportedVersionException Unsupported(short apiKey, short version) =>
        new(apiKey, version, $"API key {apiKey} version {version} is not supported");
}
