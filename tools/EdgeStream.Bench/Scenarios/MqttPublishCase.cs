using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// mqtt-publish's publish case (<c>--case publish</c>) and its fan-out case (<c>--case fanout</c>):
/// QoS 1 publishers with a window of PUBACKs each, subscribers on a shared latency sink. Publish:
/// <c>--publishers</c> clients on <c>bench/{i}</c>, one subscriber on <c>bench/#</c>. Fan-out: one
/// publisher on <c>bench/fan</c>, <c>--subscribers</c> subscribers on it.
/// </summary>
internal static class MqttPublishCase
{
    public const string TopicPrefix = "bench/";

    public readonly record struct Result(
        int Payload, long Acked, double Seconds, long Delivered, long Expected, double DeliverySeconds, double P50, double P99, double Max, MqttBenchCost Cost)
    {
        public double MsgPerSec => Acked / Seconds;
        public double DeliveredPerSec => Delivered / DeliverySeconds;
        public double MBps => Acked * (double)Payload / (1024 * 1024) / Seconds;
        public double DeliveredShare => Expected == 0 ? double.NaN : Delivered / (double)Expected;

        public override string ToString() => FormattableString.Invariant(
            $"{MsgPerSec:N0} msg/s acked ({Acked:N0} in {Seconds:N2} s), delivered {Delivered:N0} of {Expected:N0} ({DeliveredShare:P1}, {DeliveredPerSec:N0}/s), e2e p50 {P50:N2} ms, p99 {P99:N2} ms, max {Max:N1} ms, broker CPU {Cost.CpuSeconds:N2} s, load {Cost.LoadAverage:N1}");
    }

    /// <summary>One run: <paramref name="fanOut"/> selects the fan-out shape.</summary>
    public static async Task<Result> RunAsync(int port, int payloadBytes, MqttBenchLoad load, ChildProcess server, bool fanOut)
    {
        var factory = new MqttClientFactory();
        var subscriberCount = fanOut ? load.Subscribers : 1;
        var publisherCount = fanOut ? 1 : load.Publishers;
        var capacity = (int)Math.Min(8_000_000L, (load.Messages > 0 ? load.Messages : 1_000_000L) * subscriberCount);
        var sink = new MqttDeliverySink(capacity);
        var filter = fanOut ? TopicPrefix + "fan" : TopicPrefix + "#";

        var subscribers = new IMqttClient[subscriberCount];
        var clients = new IMqttClient[publisherCount];
        try
        {
            for (var i = 0; i < subscribers.Length; i++)
            {
                subscribers[i] = factory.CreateMqttClient();
                sink.Attach(subscribers[i]);
                await subscribers[i].ConnectAsync(MqttBenchClients.Options(port, $"bench-sub-{i}", load.Protocol, load.SubscriberTcpBuffer));
                await subscribers[i].SubscribeAsync(factory.CreateSubscribeOptionsBuilder()
                    .WithTopicFilter(f => f.WithTopic(filter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
                    .Build());
            }
            for (var i = 0; i < clients.Length; i++)
            {
                clients[i] = factory.CreateMqttClient();
                await clients[i].ConnectAsync(MqttBenchClients.Options(port, $"bench-pub-{i}", load.Protocol, load.TcpBuffer));
            }
            Func<int, string> topicOf = fanOut ? _ => TopicPrefix + "fan" : c => TopicPrefix + c.ToString(CultureInfo.InvariantCulture);

            // Warm-up: unstamped messages (JIT, first segment, topic creation), then wait until the
            // subscribers saw them, or at most 30 s (a broker may drop QoS 1 messages it cannot queue).
            if (load.Warmup > 0)
            {
                var warm = await PublishAsync(clients, topicOf, payloadBytes, load.InFlight, load.Warmup, TimeSpan.FromSeconds(60), stamp: false);
                await MqttBenchClients.WaitForAsync(() => sink.WarmupSeen, warm.Acked * subscriberCount, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
            }

            var cost = MqttBenchCost.Start(server);
            var start = Stopwatch.GetTimestamp();
            var total = load.Messages > 0 ? load.Messages : int.MaxValue;
            var run = await PublishAsync(clients, topicOf, payloadBytes, load.InFlight, total, load.Duration, stamp: true);

            // Deliveries trail the acknowledgements: wait until the subscribers have them all, or
            // until nothing arrived for a second (dropped by a full queue), at most 60 s.
            var expected = run.Acked * subscriberCount;
            var lastDelivery = await MqttBenchClients.WaitForAsync(() => sink.Delivered, expected, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
            cost = cost.Stop(server);
            if (server.HasExited) throw new InvalidOperationException($"{server.Name} exited during the run:\n{server.Output}");
            if (sink.Lost is { } lost)
            {
                var output = server.Output;
                Console.WriteLine($"    a subscriber was disconnected by {server.Name}: {lost}\n    {server.Name}'s last output:\n{output[Math.Max(0, output.Length - 2000)..]}");
            }

            var (p50, p99, max) = sink.Percentiles();
            var deliverySeconds = Math.Max(lastDelivery - start, 1) / (double)Stopwatch.Frequency;
            return new Result(payloadBytes, run.Acked, run.Seconds, sink.Delivered, expected, deliverySeconds, p50, p99, max, cost);
        }
        finally
        {
            foreach (var client in clients.Concat(subscribers))
            {
                if (client is null) continue;
                if (client.IsConnected) await client.DisconnectAsync().WaitAsync(TimeSpan.FromSeconds(10));
                client.Dispose();
            }
        }
    }

    public readonly record struct RunStats(long Acked, long Failed, double Seconds);

    /// <summary>
    /// Every client runs <paramref name="inFlight"/> loops, each awaiting its PUBACK before sending
    /// the next: at most publishers x inFlight unacknowledged. Stops after <paramref name="count"/>
    /// messages or <paramref name="duration"/>, whichever is first.
    /// </summary>
    public static async Task<RunStats> PublishAsync(IMqttClient[] clients, Func<int, string> topicOf, int payloadBytes, int inFlight, int count, TimeSpan duration, bool stamp)
    {
        long issued = 0, acked = 0, failed = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var loops = new List<Task>(clients.Length * inFlight);
        for (var c = 0; c < clients.Length; c++)
        {
            var client = clients[c];
            var topic = topicOf(c);
            for (var w = 0; w < inFlight; w++)
            {
                loops.Add(Task.Run(async () =>
                {
                    // One buffer per loop: the message is on the wire once its PUBACK is in, so the
                    // next one may overwrite it.
                    var payload = new byte[payloadBytes];
                    new Random(payloadBytes).NextBytes(payload);
                    if (!stamp) payload.AsSpan(0, 8).Clear();
                    while (Interlocked.Increment(ref issued) <= count && Stopwatch.GetTimestamp() < stopAt)
                    {
                        if (stamp) LatencyRecorder.Stamp(payload);
                        var message = new MqttApplicationMessage
                        {
                            Topic = topic,
                            Payload = new ReadOnlySequence<byte>(payload),
                            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
                        };
                        var result = await client.PublishAsync(message).ConfigureAwait(false);
                        if (result.IsSuccess) Interlocked.Increment(ref acked);
                        else if (Interlocked.Increment(ref failed) == 1) firstError = $"{result.ReasonCode}: {result.ReasonString}";
                    }
                }));
            }
        }
        // A PUBACK that never comes must not hang the bench: the client's own timeout is 30 s.
        await Task.WhenAll(loops).WaitAsync(duration + TimeSpan.FromSeconds(90));
        if (failed > 0) Console.WriteLine($"    {failed:N0} publishes refused; first: {firstError}");
        // The last loop ends with the last PUBACK.
        var end = Math.Max(Stopwatch.GetTimestamp(), start + 1);
        return new RunStats(Interlocked.Read(ref acked), failed, (end - start) / (double)Stopwatch.Frequency);
    }
}
