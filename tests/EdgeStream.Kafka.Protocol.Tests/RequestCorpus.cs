using System.Buffers;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Protocol.Tests;

/// <summary>Framed requests (size | header | body) for every API and version, with filled bodies.</summary>
internal static class RequestCorpus
{
    public static IReadOnlyList<(ApiKey Key, short Version, byte[] Frame, byte[] Body)> All { get; } = Build();

    private static List<(ApiKey, short, byte[], byte[])> Build()
    {
        var result = new List<(ApiKey, short, byte[], byte[])>();
        var correlation = 1;
        foreach (var key in KafkaApis.All)
        {
            var type = KafkaApis.CreateRequest(key)!.GetType();
            for (var v = KafkaApis.LowestSupportedVersion(key); v <= KafkaApis.HighestSupportedVersion(key); v++)
            {
                var body = MessageFiller.Create(type, seed: correlation);
                var output = new ArrayBufferWriter<byte>();
                var header = new RequestHeader { ApiKey = (short)key, ApiVersion = v, CorrelationId = correlation++, ClientId = "edge-test" };
                KafkaFraming.WriteRequest(output, header, body);
                result.Add((key, v, output.WrittenSpan.ToArray(), body.ToArray(v)));
            }
        }
        return result;
    }
}
