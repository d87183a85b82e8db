using System.Buffers;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using Xunit;

namespace EdgeStream.Kafka.Protocol.Tests;

public class RoundTripTests
{
    public static TheoryData<string> MessageNames()
    {
        var data = new TheoryData<string>();
        foreach (var t in MessageFiller.AllMessageTypes) data.Add(t.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void WriteReadWrite_EveryVersion_BytesIdentical(string name)
    {
        var type = MessageFiller.AllMessageTypes.Single(t => t.Name == name);
        for (var v = MessageFiller.Lowest(type); v <= MessageFiller.Highest(type); v++)
        {
            var original = MessageFiller.Create(type, seed: v * 1000);
            var first = original.ToArray(v);

            var reader = new KafkaReader(new ReadOnlySequence<byte>(first));
            var copy = (IKafkaMessage)Activator.CreateInstance(type)!;
            copy.Read(ref reader, v);
            Assert.True(reader.End, $"{name} v{v}: {reader.Remaining} bytes left after read");

            var second = copy.ToArray(v);
            Assert.True(first.AsSpan().SequenceEqual(second), $"{name} v{v}: bytes differ after round trip");
        }
    }

    [Fact]
    public void CreateRequestAndResponse_EveryApiKey_NotNull()
    {
        foreach (var key in KafkaApis.All)
        {
            Assert.NotNull(KafkaApis.CreateRequest(key));
            Assert.NotNull(KafkaApis.CreateResponse(key));
        }
        Assert.Contains(MessageFiller.AllMessageTypes, t => t == typeof(ConsumerProtocolSubscription));
        Assert.Contains(MessageFiller.AllMessageTypes, t => t == typeof(ConsumerProtocolAssignment));
    }

    [Fact]
    public void Registry_KnownApis_MatchSpecRanges()
    {
        Assert.Equal(0, KafkaApis.LowestSupportedVersion(ApiKey.ApiVersions));
        Assert.Equal(4, KafkaApis.HighestSupportedVersion(ApiKey.ApiVersions));
        Assert.Equal(3, KafkaApis.FirstFlexibleRequestVersion(ApiKey.ApiVersions));
        Assert.Equal(9, KafkaApis.FirstFlexibleRequestVersion(ApiKey.Metadata));
        Assert.Equal(-1, KafkaApis.LowestSupportedVersion((ApiKey)9999));
        Assert.False(KafkaApis.IsSupported(18, 5));
        Assert.True(KafkaApis.IsSupported(18, 4));
    }
}
