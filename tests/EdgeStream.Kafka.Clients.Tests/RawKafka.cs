using System.Buffers;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>Kafka requests and responses built and read with our codec, for raw frames over a <see cref="KafkaWire"/> socket.</summary>
internal static class RawKafka
{
    public static byte[] Request(short apiKey, short version, int correlationId, IKafkaMessage body)
    {
        var output = new ArrayBufferWriter<byte>();
        KafkaFraming.WriteRequest(output, new RequestHeader { ApiKey = apiKey, ApiVersion = version, CorrelationId = correlationId, ClientId = "hostile" }, body);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The values of every record of every batch in a fetched record set.</summary>
    public static List<string> RecordValues(ReadOnlyMemory<byte> records)
    {
        var values = new List<string>();
        for (var position = 0; position + EdgeStream.Records.RecordBatchHeader.LogOverhead <= records.Length;)
        {
            var size = EdgeStream.Records.RecordBatchHeader.PeekTotalSize(records.Span[position..]);
            foreach (var r in EdgeStream.Records.RecordBatchReader.ReadRecords(records.Slice(position, size)))
                values.Add(System.Text.Encoding.UTF8.GetString(r.Value!.Value.Span));
            position += size;
        }
        return values;
    }

    public static ProduceResponse ReadProduceResponse(byte[] frame, short version, int correlationId) =>
        ReadResponse<ProduceResponse>(frame, ApiKey.Produce, version, correlationId);

    public static TResponse ReadResponse<TResponse>(byte[] frame, ApiKey apiKey, short version, int correlationId)
        where TResponse : IKafkaMessage, new()
    {
        var reader = new KafkaReader(frame.AsMemory());
        var header = ResponseHeader.Read(ref reader, KafkaHeaders.ResponseHeaderVersion((short)apiKey, version));
        Assert.Equal(correlationId, header.CorrelationId);
        var response = new TResponse();
        response.Read(ref reader, version);
        return response;
    }

    public static byte[] ProduceRequest(string topic, byte[] batch, short version, short acks = -1, int correlationId = 7) => Request((short)ApiKey.Produce, version, correlationId, new ProduceRequest
    {
        Acks = acks,
        TimeoutMs = 10_000,
        TopicData = { new ProduceRequest.TopicProduceData { Name = topic, PartitionData = { new ProduceRequest.PartitionProduceData { Index = 0, Records = batch } } } },
    });
}
