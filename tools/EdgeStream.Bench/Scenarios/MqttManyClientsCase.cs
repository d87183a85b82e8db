using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// mqtt-publish's many-clients case (<c>--case clients</c>): <c>--clients</c> connections, each
/// publishing <c>--rate</c> QoS 1 messages per second to its own topic for <c>--seconds</c>, spread
/// evenly over the second. What it measures is the cost of many mostly idle connections: achieved
/// msg/s, PUBACK latency, broker CPU and resident memory. No subscriber.
/// </summary>
internal static class MqttManyClientsCase
{
    // Connecting a thousand clients one by one takes long; all at once floods the accept queue.
    private const int ConnectConcurrency = 50;

    public readonly record struct Result(
        int Payload, int Clients, long Acked, long Failed, double Seconds, double ConnectSeconds, double P50, double P99, double Max, double RssMiB, MqttBenchCost Cost)
    {
        public double MsgPerSec => Acked / Seconds;

        public override string ToString() => FormattableString.Invariant(
            $"{Clients:N0} clients connected in {ConnectSeconds:N1} s, {MsgPerSec:N0} msg/s acked ({Acked:N0} in {Seconds:N2} s, {Failed:N0} failed), PUBACK p50 {P50:N2} ms, p99 {P99:N2} ms, max {Max:N1} ms, broker CPU {Cost.CpuSeconds:N2} s, RSS {RssMiB:N1} MiB, load {Cost.LoadAverage:N1}");
    }

    public static async Task<Result> RunAsync(int port, int payloadBytes, MqttBenchLoad load, ChildProcess server)
    {
        var factory = new MqttClientFactory();
        var clients = new IMqttClient[load.Clients];
        try
        {
            var connectStart = Stopwatch.GetTimestamp();
            using (var gate = new SemaphoreSlim(ConnectConcurrency))
            {
                await Task.WhenAll(Enumerable.Range(0, clients.Length).Select(async i =>
                {
                    await gate.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        var client = factory.CreateMqttClient();
                        clients[i] = client;
                        await client.ConnectAsync(MqttBenchClients.Options(port, $"bench-many-{i}", load.Protocol, load.TcpBuffer)).ConfigureAwait(false);
                    }
                    finally { gate.Release(); }
                })).WaitAsync(TimeSpan.FromSeconds(120));
            }
            var connectSeconds = Stopwatch.GetElapsedTime(connectStart).TotalSeconds;

            // Warm-up: one message per client (JIT, topic creation), not counted.
            await Task.WhenAll(clients.Select((c, i) => c.PublishAsync(Message(i, new byte[payloadBytes])))).WaitAsync(TimeSpan.FromSeconds(60));

            var latency = new LatencyRecorder((int)Math.Min(8_000_000, load.Clients * load.Rate * load.Duration.TotalSeconds * 2 + 1000));
            var latencyLock = new Lock();
            long acked = 0, failed = 0;
            var period = TimeSpan.FromSeconds(1 / load.Rate);
            var cost = MqttBenchCost.Start(server);
            var start = Stopwatch.GetTimestamp();
            var stopAt = start + (long)(load.Duration.TotalSeconds * Stopwatch.Frequency);
            var loops = clients.Select((client, i) => Task.Run(async () =>
            {
                var payload = new byte[payloadBytes];
                // Client i starts i/clients of a period in, so the load is even over the second.
                var next = start + (long)(period.TotalSeconds * Stopwatch.Frequency * i / clients.Length);
                var step = (long)(period.TotalSeconds * Stopwatch.Frequency);
                while (true)
                {
                    var wait = next - Stopwatch.GetTimestamp();
                    if (next >= stopAt) break;
                    if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency)).ConfigureAwait(false);
                    var sent = Stopwatch.GetTimestamp();
                    var result = await client.PublishAsync(Message(i, payload)).ConfigureAwait(false);
                    var took = Stopwatch.GetTimestamp() - sent;
                    if (result.IsSuccess)
                    {
                        Interlocked.Increment(ref acked);
                        lock (latencyLock) latency.RecordTicks(took);
                    }
                    else Interlocked.Increment(ref failed);
                    // A late PUBACK delays this client's next message, not the schedule of the others.
                    next = Math.Max(next + step, Stopwatch.GetTimestamp());
                }
            })).ToList();
            await Task.WhenAll(loops).WaitAsync(load.Duration + TimeSpan.FromSeconds(60));
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            cost = cost.Stop(server);
            var rss = ProcessStats.RssMiB(server.Pid);
            if (server.HasExited) throw new InvalidOperationException($"{server.Name} exited during the run:\n{server.Output}");
            (double P50, double P99, double Max) p;
            lock (latencyLock) p = latency.Percentiles();
            return new Result(payloadBytes, clients.Length, acked, failed, seconds, connectSeconds, p.P50, p.P99, p.Max, rss, cost);
        }
        finally
        {
            await Task.WhenAll(clients.Where(c => c is not null).Select(async c =>
            {
                try
                {
                    if (c.IsConnected) await c.DisconnectAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is TimeoutException or MQTTnet.Exceptions.MqttCommunicationException) { }
                c.Dispose();
            }));
        }
    }

    private static MqttApplicationMessage Message(int client, byte[] payload) => new()
    {
        Topic = MqttPublishCase.TopicPrefix + "many/" + client.ToString(CultureInfo.InvariantCulture),
        Payload = new ReadOnlySequence<byte>(payload),
        QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
    };
}
