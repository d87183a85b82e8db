using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// An idempotent producer keeps producing across an agent restart: librdkafka retries what was in
/// flight with the same sequence numbers and the agent, having rebuilt producer state from the log,
/// drops the duplicates. A consumer must see every record exactly once, in order.
/// </summary>
public class IdempotentRestartTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task IdempotentProducer_AgentRestarted_EveryRecordExactlyOnceInOrder(bool kill)
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"));
        var topic = Unique.Name(kill ? "idem-kill" : "idem-term");
        var tp = new TopicPartition(topic, 0);
        var config = Clients.ProducerConfig(node.Bootstrap);
        config.EnableIdempotence = true;
        config.LingerMs = 2;
        config.MessageTimeoutMs = 120_000;
        config.ReconnectBackoffMs = 50;
        config.ReconnectBackoffMaxMs = 500;

        var failures = new List<string>();
        var sent = 0;
        using var producer = Clients.Producer(config);
        void ProduceSome(int n)
        {
            for (var i = 0; i < n; i++)
            {
                var value = Encoding.UTF8.GetBytes($"{sent++:D6}");
                producer.Produce(tp, new Message<byte[], byte[]> { Value = value }, r =>
                {
                    if (r.Error.Code != ErrorCode.NoError) lock (failures) failures.Add($"{Encoding.UTF8.GetString(r.Message.Value)}: {r.Error}");
                });
            }
        }

        // Some acknowledged records first, so producer state exists in the log.
        ProduceSome(200);
        Clients.FlushOrFail(producer, TimeSpan.FromSeconds(30));

        // Keep producing while the agent goes away and comes back: some requests are in flight when it dies.
        var restart = node.RestartAsync(kill);
        var sw = Stopwatch.StartNew();
        while (!restart.IsCompleted && sw.Elapsed < TimeSpan.FromSeconds(90))
        {
            ProduceSome(20);
            // Pacing of the load, not a wait for anything: about 20 records every 20 ms until the agent is back.
            await Task.WhenAny(restart, Task.Delay(20));
        }
        await restart;
        ProduceSome(200);
        Clients.FlushOrFail(producer, TimeSpan.FromSeconds(100));
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(20)) + "\n" + Clients.Diagnostics());

        // Every record was acknowledged (flushed, no failures), so the log's end holds each one and any
        // duplicate a retry wrote: reading up to it sees them all, with no time left for one to show.
        var seen = Clients.ReadToEnd(node.Bootstrap, topic);
        var values = seen.Select(s => Encoding.UTF8.GetString(s.Value!)).ToList();
        Assert.Equal(Enumerable.Range(0, sent).Select(i => i.ToString("D6")), values);
    }

    [Fact]
    public async Task Stop_ClientStillConnected_ExitsWellBeforeHostShutdownTimeout()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"));
        using var producer = Clients.Producer(Clients.ProducerConfig(node.Bootstrap));
        await producer.ProduceAsync(new TopicPartition("stop-connected", 0), new Message<byte[], byte[]> { Value = [1] });
        // The producer keeps its connection open. The host's shutdown timeout is 30 s; the broker
        // used to wait for it because it ignored Kestrel's request to close connections.
        var sw = Stopwatch.StartNew();
        await node.StopAsync();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"SIGTERM took {sw.Elapsed} with a client connected");
    }
}
