using System.Buffers;
using System.Text;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Protocol.Tests;

/// <summary>Hand-assembled byte fixtures in the shape real clients send them.</summary>
public class FixtureTests
{
    private static byte[] Bytes(params object[] parts)
    {
        var list = new List<byte>();
        foreach (var p in parts)
        {
            switch (p)
            {
                case byte b: list.Add(b); break;
                case int i: list.Add((byte)i); break;
                case string s: list.AddRange(Encoding.UTF8.GetBytes(s)); break;
                case byte[] a: list.AddRange(a); break;
                default: throw new ArgumentException(p.GetType().Name);
            }
        }
        return list.ToArray();
    }

    private static byte[] Frame(byte[] payload) =>
        Bytes(payload.Length >> 24, payload.Length >> 16, payload.Length >> 8, payload.Length, payload);

    /// <summary>ApiVersions v3 as librdkafka sends it first on a connection: header v2, compact strings in the body.</summary>
    internal static byte[] LibrdkafkaApiVersionsV3(byte[]? bodyTags = null) => Frame(Bytes(
        0x00, 0x12,             // api_key 18 (ApiVersions)
        0x00, 0x03,             // api_version 3
        0x00, 0x00, 0x00, 0x01, // correlation_id 1
        0x00, 0x07, "rdkafka",  // client_id: classic NULLABLE_STRING even in header v2
        0x00,                   // header tagged fields: none
        0x0B, "librdkafka",     // client_software_name: COMPACT_STRING (length + 1)
        0x06, "2.3.0",          // client_software_version
        bodyTags ?? [0x00]));   // body tagged fields

    [Fact]
    public void ParseRequest_LibrdkafkaApiVersionsV3_Decodes()
    {
        var buffer = new ReadOnlySequence<byte>(LibrdkafkaApiVersionsV3());
        Assert.True(KafkaFraming.TryReadFrame(ref buffer, 1 << 20, out var frame));
        Assert.True(buffer.IsEmpty);
        var request = KafkaFraming.ParseRequest(frame);

        Assert.Equal((short)ApiKey.ApiVersions, request.Header.ApiKey);
        Assert.Equal(3, request.Header.ApiVersion);
        Assert.Equal(1, request.Header.CorrelationId);
        Assert.Equal("rdkafka", request.Header.ClientId);
        var body = Assert.IsType<ApiVersionsRequest>(request.Body);
        Assert.Equal("librdkafka", body.ClientSoftwareName);
        Assert.Equal("2.3.0", body.ClientSoftwareVersion);
    }

    [Fact]
    public void ParseRequest_UnknownTaggedFields_Skipped()
    {
        // Two unknown tags (99: 3 bytes, 1000: 0 bytes; 1000 is a 2-byte varint) in the body's tagged section.
        var tags = Bytes(0x02, 99, 0x03, 0xAA, 0xBB, 0xCC, 0xE8, 0x07, 0x00);
        var buffer = new ReadOnlySequence<byte>(LibrdkafkaApiVersionsV3(tags));
        Assert.True(KafkaFraming.TryReadFrame(ref buffer, 1 << 20, out var frame));
        var body = Assert.IsType<ApiVersionsRequest>(KafkaFraming.ParseRequest(frame).Body);
        Assert.Equal("librdkafka", body.ClientSoftwareName);
        Assert.Equal("2.3.0", body.ClientSoftwareVersion);
    }

    [Fact]
    public void ParseRequest_UnknownHeaderTaggedField_Skipped()
    {
        var frame = Bytes(
            0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, "rdkafka",
            0x01, 0x05, 0x02, 0x01, 0x02,   // header tagged fields: tag 5, 2 bytes
            0x0B, "librdkafka", 0x06, "2.3.0", 0x00);
        var request = KafkaFraming.ParseRequest(new ReadOnlySequence<byte>(frame));
        Assert.Equal("rdkafka", request.Header.ClientId);
        Assert.Equal("2.3.0", Assert.IsType<ApiVersionsRequest>(request.Body).ClientSoftwareVersion);
    }

    [Fact]
    public void Read_TaggedFieldSizeLies_Throws()
    {
        // Known tag 1 (FinalizedFeaturesEpoch, INT64) declared as 2 bytes.
        var body = Bytes(0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 1, 2, 0xAA, 0xBB, 0, 0, 0, 0, 0, 0);
        Assert.Throws<KafkaProtocolException>(() => KafkaMessage.Parse<ApiVersionsResponse>(body, 3));
    }

    [Fact]
    public void ParseRequest_MetadataV12Flexible_Decodes()
    {
        var frame = Frame(Bytes(
            0x00, 0x03, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x2A, // Metadata v12, correlation 42
            0x00, 0x07, "rdkafka", 0x00,                    // client id, no header tags
            0x02,                                           // topics: COMPACT_ARRAY of 1
            new byte[16],                                   //   topic_id: zero UUID
            0x05, "test",                                   //   name: COMPACT_NULLABLE_STRING
            0x00,                                           //   topic tagged fields
            0x01,                                           // allow_auto_topic_creation
            0x00,                                           // include_topic_authorized_operations
            0x00));                                         // tagged fields
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.True(KafkaFraming.TryReadFrame(ref buffer, 1 << 20, out var payload));
        var request = KafkaFraming.ParseRequest(payload);
        Assert.Equal(42, request.Header.CorrelationId);
        var body = Assert.IsType<MetadataRequest>(request.Body);
        var topic = Assert.Single(body.Topics!);
        Assert.Equal("test", topic.Name);
        Assert.Equal(Guid.Empty, topic.TopicId);
        Assert.True(body.AllowAutoTopicCreation);
        Assert.False(body.IncludeTopicAuthorizedOperations);
    }

    [Theory]
    [InlineData((short)3)]
    [InlineData((short)9)]
    public void ParseRequest_ProduceWithRecordBatch_DecodesRecords(short version)
    {
        var batch = new Records.RecordBatchBuilder()
            .Add(Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes("hello"), 1_700_000_000_000)
            .Build(Records.CompressionType.Lz4);
        var flexible = version >= 9;
        var length = flexible
            ? Bytes(batch.Length + 1 < 0x80 ? new byte[] { (byte)(batch.Length + 1) } : new byte[] { (byte)((batch.Length + 1) | 0x80), (byte)((batch.Length + 1) >> 7) })
            : Bytes(batch.Length >> 24, batch.Length >> 16, batch.Length >> 8, batch.Length);
        var frame = Bytes(
            0x00, 0x00, 0x00, (byte)version, 0x00, 0x00, 0x00, 0x03,  // Produce, correlation 3
            0x00, 0x07, "rdkafka",                                     // client id
            flexible ? new byte[] { 0x00 } : [],                       // header tags (v2)
            flexible ? new byte[] { 0x00 } : new byte[] { 0xFF, 0xFF }, // transactional_id: null
            0xFF, 0xFF,                                                // acks -1
            0x00, 0x00, 0x75, 0x30,                                    // timeout 30000
            flexible ? new byte[] { 0x02, 0x07 } : new byte[] { 0, 0, 0, 1, 0, 6 }, // topics[1], name length
            "orders",
            flexible ? new byte[] { 0x02 } : new byte[] { 0, 0, 0, 1 }, // partitions[1]
            0x00, 0x00, 0x00, 0x02,                                    // index 2
            length, batch,                                             // records
            flexible ? new byte[] { 0x00, 0x00, 0x00 } : []);          // partition, topic, body tags
        var request = KafkaFraming.ParseRequest(new ReadOnlySequence<byte>(frame));
        var body = Assert.IsType<ProduceRequest>(request.Body);
        Assert.Null(body.TransactionalId);
        Assert.Equal(-1, body.Acks);
        Assert.Equal(30000, body.TimeoutMs);
        var topic = Assert.Single(body.TopicData);
        Assert.Equal("orders", topic.Name);
        var partition = Assert.Single(topic.PartitionData);
        Assert.Equal(2, partition.Index);
        var record = Assert.Single(Records.RecordBatchReader.ReadRecords(partition.Records!.Value));
        Assert.Equal("hello", Encoding.UTF8.GetString(record.Value!.Value.Span));
        Assert.Equal(frame.AsSpan(frame.Length - body.ToArray(version).Length).ToArray(), body.ToArray(version));
    }

    [Fact]
    public void ParseRequest_MetadataV1NullTopics_DecodesAllTopics()
    {
        var frame = Bytes(
            0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, // Metadata v1, correlation 7
            0xFF, 0xFF,                                     // client id: null
            0xFF, 0xFF, 0xFF, 0xFF);                        // topics: null ARRAY = all topics
        var request = KafkaFraming.ParseRequest(new ReadOnlySequence<byte>(frame));
        Assert.Null(request.Header.ClientId);
        Assert.Null(Assert.IsType<MetadataRequest>(request.Body).Topics);
    }

    [Fact]
    public void ParseRequest_MetadataV0NullTopics_Throws()
    {
        // Topics became nullable in v1; in v0 a null array is a protocol error.
        var frame = Bytes(0x00, 0x03, 0x00, 0x00, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
        Assert.Throws<KafkaProtocolException>(() => KafkaFraming.ParseRequest(new ReadOnlySequence<byte>(frame)));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(12)] // flexible: compact lengths, tagged fields
    [InlineData(16)]
    public void WriteResponse_FetchWithRecords_MeasuredSizeMatches_SameBytesAsEncodingThroughABuffer(short version)
    {
        var records = new byte[70_000];
        new Random(7).NextBytes(records);
        var response = new FetchResponse { SessionId = 42 };
        var topic = new FetchResponse.FetchableTopicResponse { Topic = "t", TopicId = Guid.NewGuid() };
        topic.Partitions.Add(new FetchResponse.PartitionData { PartitionIndex = 0, HighWatermark = 10, Records = records, AbortedTransactions = [] });
        topic.Partitions.Add(new FetchResponse.PartitionData { PartitionIndex = 1, HighWatermark = 0, Records = ReadOnlyMemory<byte>.Empty, AbortedTransactions = [] });
        response.Responses.Add(topic);

        // Direct (measured, then written into the output): what the broker sends.
        var direct = new ArrayBufferWriter<byte>(16); // small segments, as a pipe hands out
        KafkaFraming.WriteResponse(direct, correlationId: 9, ApiKey.Fetch, version, response);

        // Reference: header and body encoded into one buffer, then prefixed with its length.
        var body = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(body);
        new ResponseHeader { CorrelationId = 9 }.Write(ref writer, KafkaHeaders.ResponseHeaderVersion((short)ApiKey.Fetch, version));
        response.Write(ref writer, version);
        writer.Flush();
        var expected = new byte[4 + body.WrittenCount];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(expected, body.WrittenCount);
        body.WrittenSpan.CopyTo(expected.AsSpan(4));

        Assert.Equal(expected, direct.WrittenSpan.ToArray());
        var measure = KafkaWriter.Measuring();
        response.Write(ref measure, version);
        measure.Flush();
        Assert.True(measure.BytesWritten > records.Length);
    }

    [Fact]
    public void WriteResponse_ApiVersionsFlexible_UsesHeaderV0()
    {
        Assert.Equal(0, KafkaHeaders.ResponseHeaderVersion((short)ApiKey.ApiVersions, 3));
        Assert.Equal(0, KafkaHeaders.ResponseHeaderVersion((short)ApiKey.ApiVersions, 4));
        Assert.Equal(1, KafkaHeaders.ResponseHeaderVersion((short)ApiKey.Metadata, 9));
        Assert.Equal(0, KafkaHeaders.ResponseHeaderVersion((short)ApiKey.Metadata, 8));
        Assert.Equal(2, KafkaHeaders.RequestHeaderVersion((short)ApiKey.ApiVersions, 3));
        Assert.Equal(1, KafkaHeaders.RequestHeaderVersion((short)ApiKey.ApiVersions, 2));
        Assert.Equal(1, KafkaHeaders.RequestHeaderVersion(9999, 0));

        var response = new ApiVersionsResponse { ErrorCode = 0 };
        response.ApiKeys.Add(new ApiVersionsResponse.ApiVersion { ApiKey = 18, MinVersion = 0, MaxVersion = 4 });
        var output = new ArrayBufferWriter<byte>();
        KafkaFraming.WriteResponse(output, correlationId: 5, ApiKey.ApiVersions, 3, response);
        var expected = Bytes(
            0, 0, 0, 19,     // size
            0, 0, 0, 5,      // correlation id; header v0: no tagged fields
            0, 0,            // error code
            0x02,            // api_keys COMPACT_ARRAY of 1
            0, 18, 0, 0, 0, 4, 0x00,
            0, 0, 0, 0,      // throttle_time_ms
            0x00);           // tagged fields
        Assert.Equal(expected, output.WrittenSpan.ToArray());

        var reader = new KafkaReader(new ReadOnlySequence<byte>(expected.AsMemory(4)));
        Assert.Equal(5, ResponseHeader.Read(ref reader, 0).CorrelationId);
        var parsed = (ApiVersionsResponse)KafkaApis.ReadResponse(ApiKey.ApiVersions, 3, ref reader);
        Assert.Equal(4, Assert.Single(parsed.ApiKeys).MaxVersion);
        Assert.Equal(-1, parsed.FinalizedFeaturesEpoch);
    }

    [Fact]
    public void ParseRequest_UnsupportedVersion_ThrowsWithHeaderInfo()
    {
        var frame = Bytes(0x00, 0x12, 0x00, 0x63, 0, 0, 0, 9, 0x00, 0x01, "x", 0x00);
        var ex = Assert.Throws<UnsupportedVersionException>(() => KafkaFraming.ParseRequest(new ReadOnlySequence<byte>(frame)));
        Assert.Equal(18, ex.ApiKey);
        Assert.Equal(99, ex.ApiVersion);
        Assert.Equal(9, ex.Header!.CorrelationId);
    }
}
