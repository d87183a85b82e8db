using System.Net.Sockets;
using Confluent.Kafka;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Records;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>Fetch v13+ names topics by id (KIP-516): served through the catalog's topic ids, as Metadata reports them.</summary>
public sealed class FetchByTopicIdTests : IAsyncLifetime
{
    private readonly SharedAgent _agent = SharedAgent.Edge();

    public Task InitializeAsync() => _agent.InitializeAsync();
    public Task DisposeAsync() => _agent.DisposeAsync();

    private static async Task<TResponse> SendAsync<TResponse>(Socket socket, ApiKey key, short version, int correlationId, IKafkaMessage request)
        where TResponse : IKafkaMessage, new()
    {
        await socket.SendAsync(RawKafka.Request((short)key, version, correlationId, request), SocketFlags.None);
        return RawKafka.ReadResponse<TResponse>(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(15)), key, version, correlationId);
    }

    private static FetchRequest Fetch(string? name, Guid id) => new()
    {
        MaxWaitMs = 100,
        MinBytes = 1,
        MaxBytes = 1 << 20,
        Topics = { new FetchRequest.FetchTopic { Topic = name ?? "", TopicId = id, Partitions = { new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 } } } },
    };

    [Fact]
    public async Task FetchV13ToV16_ByTopicId_ReturnsTheRecords_UnknownIdIsUnknownTopicId()
    {
        var topic = Unique.Name("byid");
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _agent.Node.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build())
        {
            for (var i = 0; i < 3; i++) await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<string, string> { Key = "k", Value = $"v{i}" });
        }
        using var socket = await KafkaWire.ConnectAsync(_agent.Node.KafkaPort);
        var metadata = await SendAsync<MetadataResponse>(socket, ApiKey.Metadata, 12, 1,
            new MetadataRequest { Topics = [new MetadataRequest.MetadataRequestTopic { Name = topic }] });
        var id = Assert.Single(metadata.Topics).TopicId;
        Assert.NotEqual(Guid.Empty, id);

        var correlation = 10;
        foreach (short version in new short[] { 13, 15, 16 })
        {
            var response = await SendAsync<FetchResponse>(socket, ApiKey.Fetch, version, ++correlation, Fetch(null, id));
            var topicResponse = Assert.Single(response.Responses);
            Assert.Equal(id, topicResponse.TopicId);
            var partition = Assert.Single(topicResponse.Partitions);
            Assert.Equal(0, partition.ErrorCode);
            Assert.Equal(3, partition.HighWatermark);
            Assert.Equal(["v0", "v1", "v2"], RawKafka.RecordValues(partition.Records!.Value));
        }

        var unknown = await SendAsync<FetchResponse>(socket, ApiKey.Fetch, 16, ++correlation, Fetch(null, Guid.NewGuid()));
        Assert.Equal(100, Assert.Single(Assert.Single(unknown.Responses).Partitions).ErrorCode); // UNKNOWN_TOPIC_ID

        // v12 still names topics.
        var byName = await SendAsync<FetchResponse>(socket, ApiKey.Fetch, 12, ++correlation, Fetch(topic, Guid.Empty));
        Assert.Equal(3, Assert.Single(Assert.Single(byName.Responses).Partitions).HighWatermark);
    }
}
