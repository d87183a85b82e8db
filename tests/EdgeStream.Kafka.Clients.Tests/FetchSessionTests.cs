using System.Net.Sockets;
using Confluent.Kafka;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Records;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// Incremental fetch sessions (KIP-227) at the protocol level, where every field is visible: what a
/// session answers after each kind of request, its errors, forgetting partitions, and eviction from
/// a bounded cache. (A real client using sessions is in the Kafka tests: @platformatic/kafka.)
/// </summary>
public sealed class FetchSessionTests
{
    private const short FetchSessionIdNotFound = 70;
    private const short InvalidFetchSessionEpoch = 71;

    private sealed class Connection(Socket socket) : IDisposable
    {
        private int _correlation;

        public async Task<TResponse> SendAsync<TResponse>(ApiKey key, short version, IKafkaMessage request) where TResponse : IKafkaMessage, new()
        {
            var correlation = ++_correlation;
            await socket.SendAsync(RawKafka.Request((short)key, version, correlation, request), SocketFlags.None);
            return RawKafka.ReadResponse<TResponse>(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(15)), key, version, correlation);
        }

        public void Dispose() => socket.Dispose();
    }

    private static async Task<(string Name, Guid Id)> TopicWithRecordsAsync(AgentNode node, int partitions, int perPartition)
    {
        var topic = Unique.Name("fsess");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = node.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build())
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build())
        {
            for (var p = 0; p < partitions; p++)
                for (var i = 0; i < perPartition; i++)
                    await producer.ProduceAsync(new TopicPartition(topic, p), new Message<string, string> { Key = "k", Value = $"p{p}-{i}" });
        }
        using var connection = new Connection(await KafkaWire.ConnectAsync(node.KafkaPort));
        var metadata = await connection.SendAsync<MetadataResponse>(ApiKey.Metadata, 12, new MetadataRequest { Topics = [new MetadataRequest.MetadataRequestTopic { Name = topic }] });
        return (topic, Assert.Single(metadata.Topics).TopicId);
    }

    private static FetchRequest.FetchTopic Topic(short version, (string Name, Guid Id) topic, params (int Partition, long Offset)[] partitions)
    {
        var fetchTopic = version >= 13 ? new FetchRequest.FetchTopic { TopicId = topic.Id } : new FetchRequest.FetchTopic { Topic = topic.Name };
        foreach (var (partition, offset) in partitions)
            fetchTopic.Partitions.Add(new FetchRequest.FetchPartition { Partition = partition, FetchOffset = offset, PartitionMaxBytes = 1 << 20 });
        return fetchTopic;
    }

    private static FetchRequest Fetch(int sessionId, int epoch, params FetchRequest.FetchTopic[] topics)
    {
        var request = new FetchRequest { MaxWaitMs = 50, MinBytes = 1, MaxBytes = 1 << 20, SessionId = sessionId, SessionEpoch = epoch };
        request.Topics.AddRange(topics);
        return request;
    }

    /// <summary>"partition:value,value" for every partition in the response, in response order.</summary>
    private static List<string> Partitions(FetchResponse response) =>
        response.Responses.SelectMany(t => t.Partitions).Select(p => $"{p.PartitionIndex}:{string.Join(",", RawKafka.RecordValues(p.Records ?? ReadOnlyMemory<byte>.Empty))}").ToList();

    [Theory]
    [InlineData(12)] // topics by name
    [InlineData(16)] // topics by id
    public async Task Session_FullThenIncremental_SendsOnlyWhatChanged_ForgetsAndCloses(short version)
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Path);
        var topic = await TopicWithRecordsAsync(node, partitions: 3, perPartition: 1);
        using var connection = new Connection(await KafkaWire.ConnectAsync(node.KafkaPort));

        // Epoch 0 opens a session: a full response, every partition with its record.
        var full = await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(0, 0, Topic(version, topic, (0, 0), (1, 0), (2, 0))));
        Assert.Equal(0, full.ErrorCode);
        Assert.NotEqual(0, full.SessionId);
        var session = full.SessionId;
        Assert.Equal(["0:p0-0", "1:p1-0", "2:p2-0"], Partitions(full));

        // The client consumed one record of each: it sends the new positions; nothing new, so nothing back.
        var caughtUp = await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, 1, Topic(version, topic, (0, 1), (1, 1), (2, 1))));
        Assert.Equal(0, caughtUp.ErrorCode);
        Assert.Equal(session, caughtUp.SessionId);
        Assert.Empty(Partitions(caughtUp));

        // A record arrives in partition 1: an empty incremental request gets exactly that partition.
        await ProduceAsync(node, topic.Name, 1, "p1-1");
        var one = await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, 2));
        Assert.Equal(["1:p1-1"], Partitions(one));
        Assert.Equal(2, one.Responses.SelectMany(t => t.Partitions).Single().HighWatermark);

        // The session still fetches partition 1 at offset 1 (the client did not move it): the same
        // record again, since the client says where to read, not the broker.
        var again = await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, 3));
        Assert.Equal(["1:p1-1"], Partitions(again));

        // Forget partition 1, produce to it: it is no longer in the session.
        var forget = Fetch(session, 4);
        forget.ForgottenTopicsData.Add(version >= 13
            ? new FetchRequest.ForgottenTopic { TopicId = topic.Id, Partitions = [1] }
            : new FetchRequest.ForgottenTopic { Topic = topic.Name, Partitions = [1] });
        Assert.Empty(Partitions(await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, forget)));
        await ProduceAsync(node, topic.Name, 1, "p1-2");
        Assert.Empty(Partitions(await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, 5))));
        // ...while partition 2 still is.
        await ProduceAsync(node, topic.Name, 2, "p2-1");
        Assert.Equal(["2:p2-1"], Partitions(await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, 6))));

        // A wrong epoch is INVALID_FETCH_SESSION_EPOCH and leaves the session as it was.
        var stale = await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, 6));
        Assert.Equal(InvalidFetchSessionEpoch, stale.ErrorCode);
        Assert.Equal(0, stale.SessionId);
        Assert.Empty(stale.Responses);
        Assert.Equal(0, (await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, 7, Topic(version, topic, (2, 2))))).ErrorCode);

        // Epoch -1 closes it: a sessionless full fetch; the id is gone after.
        var closing = await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, -1, Topic(version, topic, (0, 0))));
        Assert.Equal(0, closing.SessionId);
        Assert.Equal(["0:p0-0"], Partitions(closing));
        var gone = await connection.SendAsync<FetchResponse>(ApiKey.Fetch, version, Fetch(session, 8));
        Assert.Equal(FetchSessionIdNotFound, gone.ErrorCode);

        var status = (await node.StatusAsync()).GetProperty("kafka").GetProperty("fetchSessions");
        Assert.Equal(0, status.GetProperty("open").GetInt32());
        Assert.Equal(1, status.GetProperty("created").GetInt64());
        Assert.True(status.GetProperty("incrementalFetches").GetInt64() >= 8);
    }

    [Fact]
    public async Task Cache_Full_EvictsLeastRecentlyUsed_ZeroSlotsMeansNoSessions()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Path, "edge", "--kafka-fetch-sessions", "2");
        var topic = await TopicWithRecordsAsync(node, partitions: 1, perPartition: 1);
        using var connection = new Connection(await KafkaWire.ConnectAsync(node.KafkaPort));
        async Task<int> OpenAsync() => (await connection.SendAsync<FetchResponse>(ApiKey.Fetch, 12, Fetch(0, 0, Topic(12, topic, (0, 0))))).SessionId;

        var a = await OpenAsync();
        var b = await OpenAsync();
        // Use a, so b becomes the least recently used; a third session evicts b, not a.
        Assert.Equal(0, (await connection.SendAsync<FetchResponse>(ApiKey.Fetch, 12, Fetch(a, 1))).ErrorCode);
        var c = await OpenAsync();
        Assert.All(new[] { a, b, c }, id => Assert.NotEqual(0, id));
        Assert.Equal(FetchSessionIdNotFound, (await connection.SendAsync<FetchResponse>(ApiKey.Fetch, 12, Fetch(b, 1))).ErrorCode);
        Assert.Equal(0, (await connection.SendAsync<FetchResponse>(ApiKey.Fetch, 12, Fetch(a, 2))).ErrorCode);
        Assert.Equal(0, (await connection.SendAsync<FetchResponse>(ApiKey.Fetch, 12, Fetch(c, 1))).ErrorCode);
        var status = (await node.StatusAsync()).GetProperty("kafka").GetProperty("fetchSessions");
        Assert.Equal(2, status.GetProperty("open").GetInt32());
        Assert.Equal(1, status.GetProperty("evicted").GetInt64());

        using var offDir = new TempDirectory();
        await using var off = await AgentNode.StartAsync(offDir.Path, "edge", "--kafka-fetch-sessions", "0");
        var offTopic = await TopicWithRecordsAsync(off, partitions: 1, perPartition: 1);
        using var offConnection = new Connection(await KafkaWire.ConnectAsync(off.KafkaPort));
        var sessionless = await offConnection.SendAsync<FetchResponse>(ApiKey.Fetch, 12, Fetch(0, 0, Topic(12, offTopic, (0, 0))));
        Assert.Equal(0, sessionless.ErrorCode);
        Assert.Equal(0, sessionless.SessionId);
        Assert.Equal(["0:p0-0"], Partitions(sessionless));
    }

    private static async Task ProduceAsync(AgentNode node, string topic, int partition, string value)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build();
        await producer.ProduceAsync(new TopicPartition(topic, partition), new Message<string, string> { Key = "k", Value = value });
    }
}
