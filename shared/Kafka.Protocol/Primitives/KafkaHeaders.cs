using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Protocol.Primitives;

/// <summary>
/// Which header version goes with an (api key, api version). Protocol guide, "Headers":
/// request header v1 = api_key INT16, api_version INT16, correlation_id INT32, client_id NULLABLE_STRING;
/// v2 adds a tagged-field section (flexible request versions). Response header v0 = correlation_id INT32;
/// v1 adds tagged fields (flexible response versions), except ApiVersions, whose response always uses v0
/// so a client that does not yet know the broker's versions can parse it.
/// </summary>
public static class KafkaHeaders
{
    public static short RequestHeaderVersion(short apiKey, short apiVersion)
    {
        // ControlledShutdown v0 predates the client id (header v0).
        if (apiKey == 7 && apiVersion == 0) return 0;
        var firstFlexible = KafkaApis.FirstFlexibleRequestVersion((ApiKey)apiKey);
        return firstFlexible >= 0 && apiVersion >= firstFlexible ? (short)2 : (short)1;
    }

    public static short ResponseHeaderVersion(short apiKey, short apiVersion)
    {
        if (apiKey == (short)ApiKey.ApiVersions) return 0;
        var firstFlexible = KafkaApis.FirstFlexibleResponseVersion((ApiKey)apiKey);
        return firstFlexible >= 0 && apiVersion >= firstFlexible ? (short)1 : (short)0;
    }
}

/// <summary>The request header (v0-v2).</summary>
public sealed class RequestHeader
{
    public short ApiKey { get; set; }
    public short ApiVersion { get; set; }
    public int CorrelationId { get; set; }
    public string? ClientId { get; set; }

    /// <summary>
    /// Reads a header; its version follows from the api key and version in its first four bytes. An unknown
    /// key reads as v1 (client id, no tags), which is what every client sends before knowing the broker.
    /// </summary>
    public static RequestHeader Read(ref KafkaReader reader)
    {
        var header = new RequestHeader
        {
            ApiKey = reader.ReadInt16(),
            ApiVersion = reader.ReadInt16(),
            CorrelationId = reader.ReadInt32(),
        };
        var version = KafkaHeaders.RequestHeaderVersion(header.ApiKey, header.ApiVersion);
        // client_id is a classic NULLABLE_STRING even in header v2 (the field is not flexible).
        if (version >= 1) header.ClientId = reader.ReadNullableString(flexible: false);
        if (version >= 2) reader.SkipTaggedFields();
        return header;
    }

    public void Write(ref KafkaWriter writer)
    {
        var version = KafkaHeaders.RequestHeaderVersion(ApiKey, ApiVersion);
        writer.WriteInt16(ApiKey);
        writer.WriteInt16(ApiVersion);
        writer.WriteInt32(CorrelationId);
        if (version >= 1) writer.WriteNullableString(ClientId, flexible: false);
        if (version >= 2) writer.WriteUnsignedVarint(0);
    }
}

/// <summary>The response header (v0-v1).</summary>
public sealed class ResponseHeader
{
    public int CorrelationId { get; set; }

    public static ResponseHeader Read(ref KafkaReader reader, short headerVersion)
    {
        var header = new ResponseHeader { CorrelationId = reader.ReadInt32() };
        if (headerVersion >= 1) reader.SkipTaggedFields();
        return header;
    }

    public void Write(ref KafkaWriter writer, short headerVersion)
    {
        writer.WriteInt32(CorrelationId);
        if (headerVersion >= 1) writer.WriteUnsignedVarint(0);
    }
}
