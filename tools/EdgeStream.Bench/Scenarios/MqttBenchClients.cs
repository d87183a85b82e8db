using System.Buffers;
using System.Diagnostics;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeStream.Bench.Scenarios;

/// <summary>The load of one mqtt-publish run, whatever the case.</summary>
internal sealed record MqttBenchLoad(
    int Publishers, int InFlight, int Messages, TimeSpan Duration, int Warmup, MqttProtocolVersion Protocol,
    int TcpBuffer, int SubscriberTcpBuffer, int Subscribers, int Clients, double Rate);

/// <summary>A broker under test: a row label and how to start it fresh in a directory (process and MQTT port).</summary>
internal sealed record MqttBenchBroker(string Label, Func<string, Task<(ChildProcess Process, int Port)>> StartAsync);

/// <summary>Broker CPU and load average over one measured phase.</summary>
internal readonly record struct MqttBenchCost(double CpuSeconds, double LoadAverage)
{
    /// <summary>Broker CPU microseconds per <paramref name="messages"/>.</summary>
    public double MicrosPer(long messages) => messages == 0 ? double.NaN : CpuSeconds * 1e6 / messages;

    /// <summary>Starts measuring <paramref name="server"/>; <see cref="Stop"/> ends it.</summary>
    public static MqttBenchCost Start(ChildProcess server) => new(ProcessStats.CpuSeconds(server.Pid), ProcessStats.LoadAverage());

    public MqttBenchCost Stop(ChildProcess server) =>
        new(ProcessStats.CpuSeconds(server.Pid) - CpuSeconds, Math.Max(LoadAverage, ProcessStats.LoadAverage()));
}

/// <summary>MQTTnet client options and the subscriber side shared by the mqtt-publish cases.</summary>
internal static class MqttBenchClients
{
    public static MqttClientOptions Options(int port, string clientId, MqttProtocolVersion protocol, int tcpBuffer)
    {
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithProtocolVersion(protocol)
            .WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        // MQTTnet's client pins SO_RCVBUF/SO_SNDBUF to its BufferSize (8 KiB by default, which turns
        // off the kernel's autotuning). On loopback (MSS 64 KiB) a 16 KiB receive window is smaller
        // than one segment: once a broker has more than that queued for the subscriber, Linux sends
        // only on the zero-window probe timer (~16 KiB per 200 ms) and deliveries fall minutes
        // behind. A buffer of 0 keeps MQTTnet's default.
        if (tcpBuffer > 0) ((MqttClientTcpOptions)options.ChannelOptions).BufferSize = tcpBuffer;
        return options;
    }

    /// <summary>
    /// Waits until <paramref name="current"/> reaches <paramref name="target"/>, nothing changed for
    /// <paramref name="quiet"/>, or <paramref name="limit"/> passed; returns when the count last moved.
    /// </summary>
    public static async Task<long> WaitForAsync(Func<long> current, long target, TimeSpan quiet, TimeSpan limit)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        var quietTicks = (long)(quiet.TotalSeconds * Stopwatch.Frequency);
        var last = current();
        var lastMoved = Stopwatch.GetTimestamp();
        while (last < target && Stopwatch.GetTimestamp() < deadline && Stopwatch.GetTimestamp() - lastMoved < quietTicks)
        {
            await Task.Delay(20).ConfigureAwait(false);
            var now = current();
            if (now != last) lastMoved = Stopwatch.GetTimestamp();
            last = now;
        }
        return lastMoved;
    }
}

/// <summary>
/// What subscribers received: stamped payloads become latency samples (publish to delivery, same
/// process so the same clock), unstamped ones count as warm-up. Any number of subscribers may
/// share one sink.
/// </summary>
internal sealed class MqttDeliverySink(int capacity)
{
    private readonly LatencyRecorder _latency = new(capacity);
    private readonly Lock _lock = new();
    private long _warmup;
    private string? _lost;

    public long Delivered => _latency.Count;
    public long WarmupSeen => Interlocked.Read(ref _warmup);

    /// <summary>The first subscriber disconnect, if any: deliveries stop counting there.</summary>
    public string? Lost => Volatile.Read(ref _lost);

    public void Attach(IMqttClient subscriber)
    {
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            var payload = e.ApplicationMessage.Payload;
            Span<byte> head = stackalloc byte[8];
            if (payload.Length >= 8)
            {
                payload.Slice(0, 8).CopyTo(head);
                bool stamped;
                // The recorder has a single-consumer rule; subscribers call in from their own loops.
                lock (_lock) stamped = _latency.Record(head);
                if (!stamped) Interlocked.Increment(ref _warmup);
            }
            return Task.CompletedTask;
        };
        subscriber.DisconnectedAsync += e =>
        {
            Interlocked.CompareExchange(ref _lost, $"{e.Reason} {e.ReasonString} {e.Exception?.Message}".Trim(), null);
            return Task.CompletedTask;
        };
    }

    public (double P50, double P99, double Max) Percentiles()
    {
        lock (_lock) return _latency.Percentiles();
    }
}
