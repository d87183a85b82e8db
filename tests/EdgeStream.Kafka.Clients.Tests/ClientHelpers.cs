using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>One agent (six partitions per auto-created topic) shared by the client tests that neither restart it nor measure it.</summary>
[CollectionDefinition(Name)]
public sealed class SharedAgentCollection : ICollectionFixture<SharedAgent>
{
    public const string Name = "shared agent";
}

/// <summary>A record as a consumer saw it, bytes compared as-is.</summary>
public sealed record Seen(int Partition, long Offset, byte[]? Key, byte[]? Value, long TimestampMs, IReadOnlyList<(string Key, byte[] Value)> Headers);

/// <summary>Confluent.Kafka (librdkafka) clients with their chatter kept out of the test output (see <see cref="KafkaClientLog"/>).</summary>
public static class Clients
{
    /// <summary>Produces one value; the error the producer reports, or null once it is acknowledged.</summary>
    public static async Task<Error?> ProduceAsync(ClientConfig config, string topic, string value)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig(config) { MessageTimeoutMs = 15000 }).Build();
        try
        {
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = value });
            return null;
        }
        catch (ProduceException<Null, string> ex)
        {
            return ex.Error;
        }
    }

    /// <summary>Consumes in group <paramref name="group"/> until <paramref name="count"/> values arrive or an error is reported.</summary>
    public static (List<string> Values, Error? Error) Consume(ClientConfig config, string topic, string group, int count)
    {
        Error? error = null;
        var values = new List<string>();
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig(config) { GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest })
            .SetErrorHandler((_, e) => error ??= e).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (values.Count < count && error is null && DateTime.UtcNow < deadline)
        {
            try
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) values.Add(r.Message.Value);
            }
            catch (ConsumeException ex)
            {
                error ??= ex.Error;
            }
        }
        consumer.Close();
        return (values, error);
    }

    public static ProducerConfig ProducerConfig(string bootstrap, Acks acks = Acks.All, CompressionType compression = CompressionType.None) => new()
    {
        BootstrapServers = bootstrap,
        Acks = acks,
        CompressionType = compression,
        LingerMs = 5,
        MessageTimeoutMs = 60_000,
        // Loopback only: no need to wait for the address family fallback.
        BrokerAddressFamily = BrokerAddressFamily.V4,
    };

    public static IProducer<byte[], byte[]> Producer(ProducerConfig config) =>
        new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, m) => KafkaClientLog.Add(m)).SetErrorHandler((_, e) => KafkaClientLog.Add(e)).Build();

    /// <summary>
    /// Reads the partitions from <paramref name="from"/> until <paramref name="expected"/> records came
    /// back or the deadline passes (then returns what it has, for the caller to assert on).
    /// </summary>
    public static List<Seen> ReadAll(string bootstrap, string topic, IReadOnlyList<int> partitions, long from, int expected, TimeSpan timeout) =>
        [.. LogReader.Read(bootstrap, topic, expected, timeout, partitions, from).Select(ToSeen)];

    /// <summary>Every record the partitions hold (see <see cref="LogReader.ReadToEnd"/>), in offset order within each partition.</summary>
    public static List<Seen> ReadToEnd(string bootstrap, string topic) => [.. LogReader.ReadToEnd(bootstrap, topic).Select(ToSeen)];

    public static Seen ToSeen(ConsumeResult<byte[], byte[]> r) => new(
        r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value, r.Message.Timestamp.UnixTimestampMs,
        r.Message.Headers is null ? [] : r.Message.Headers.Select(h => (h.Key, h.GetValueBytes())).ToList());

    public static string Diagnostics() => KafkaClientLog.Recent();

    /// <summary>Flushes, failing the test if anything is still queued after the timeout.</summary>
    public static void FlushOrFail(IProducer<byte[], byte[]> producer, TimeSpan timeout)
    {
        var left = producer.Flush(timeout);
        Assert.True(left == 0, $"{left} messages still queued after {timeout}.\n{Diagnostics()}");
    }
}
