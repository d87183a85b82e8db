using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// mqtt-publish: <c>--publishers</c> MQTTnet clients publish QoS 1 messages of each size in
/// <c>--payloads</c> to <c>bench/{publisher}</c>, each with at most <c>--inflight</c> publishes
/// awaiting their PUBACK, for <c>--seconds</c> or until <c>--messages</c> were sent, whichever comes
/// first. One more client subscribes to <c>bench/#</c> at QoS 1; every payload carries its send time,
/// so the subscriber measures publish-to-delivery latency. The same load runs against the agent
/// (a PUBACK there means the message is in the log, durable under <c>--fsync</c>, default group
/// commit; a comma-separated list runs each policy) and against Debian's mosquitto as the peer, both started by the bench on free loopback
/// ports with their own data directories.
/// </summary>
public static class MqttPublishScenario
{
    private const string TopicPrefix = "bench/";

    private sealed record Load(int Publishers, int InFlight, int Messages, TimeSpan Duration, int Warmup, MqttProtocolVersion Protocol, int TcpBuffer);

    private readonly record struct Result(
        int Payload, long Acked, long Failed, double Seconds, long Delivered, double P50, double P99, double Max)
    {
        public double MsgPerSec => Acked / Seconds;
        public double MBps => Acked * (double)Payload / (1024 * 1024) / Seconds;
        public double DeliveredShare => Acked == 0 ? double.NaN : Delivered / (double)Acked;

        public override string ToString() => FormattableString.Invariant(
            $"{MsgPerSec:N0} msg/s acked ({Acked:N0} in {Seconds:N2} s, {Failed:N0} refused), delivered {Delivered:N0} ({DeliveredShare:P1}), e2e p50 {P50:N2} ms, p99 {P99:N2} ms, max {Max:N1} ms");
    }

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var publishers = args.Int("publishers", 4);
        var inFlight = args.Int("inflight", 16);
        var messages = args.Int("messages", 0);
        var seconds = args.Int("seconds", 10);
        var warmup = args.Int("warmup", 2_000);
        var partitions = args.Int("partitions", 1);
        var tcpBuffer = args.Int("tcp-buffer", 1 << 20);
        var policies = args.String("fsync", "group").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var protocol = args.String("protocol", "5") switch
        {
            "5" or "500" or "v5" => MqttProtocolVersion.V500,
            "311" or "3.1.1" => MqttProtocolVersion.V311,
            var other => throw new ArgumentException($"--protocol {other}: expected 5 or 311"),
        };
        var payloads = ParseSizes(args.String("payloads", "100,1024"));
        var mosquittoBinary = args.String("mosquitto", "/usr/sbin/mosquitto");
        var mosquittoPersistence = args.String("mosquitto-persistence", "true");
        var skipMosquitto = args.String("peer", "on") == "off";
        if (publishers <= 0 || inFlight <= 0 || messages < 0 || seconds <= 0 || warmup < 0 || partitions <= 0 || tcpBuffer < 0)
            throw new ArgumentException("--publishers, --inflight, --seconds and --partitions must be positive; --messages, --warmup and --tcp-buffer not negative");
        if (mosquittoPersistence is not ("true" or "false"))
            throw new ArgumentException("--mosquitto-persistence: expected true or false");
        if (policies.Length == 0) throw new ArgumentException("--fsync: at least one policy");
        if (messages > 0 && messages < publishers) throw new ArgumentException("--messages must be at least --publishers");

        var load = new Load(publishers, inFlight, messages, TimeSpan.FromSeconds(seconds), warmup, protocol, tcpBuffer);
        var agentDll = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-" + Environment.ProcessId));
        Directory.CreateDirectory(root);

        var limit = messages > 0 ? $"{messages:N0} messages or {seconds} s" : $"{seconds} s";
        Console.WriteLine($"mqtt-publish: {publishers} publishers x {inFlight} in flight, QoS 1, MQTT {(protocol == MqttProtocolVersion.V500 ? "5" : "3.1.1")}, payloads {string.Join(", ", payloads)} B, {limit} per run, {warmup:N0} warm-up messages first; 1 subscriber on bench/# at QoS 1; client TCP buffers {(tcpBuffer > 0 ? tcpBuffer.ToString("N0", CultureInfo.InvariantCulture) + " B" : "MQTTnet default")}");
        Console.WriteLine($"  edgestream: {agentDll}, --partitions {partitions} --fsync {string.Join(", ", policies)} (PUBACK once the append is done under that policy: durable for group and always)");
        if (!skipMosquitto)
            Console.WriteLine($"  mosquitto: {mosquittoBinary}, persistence {mosquittoPersistence} (autosave_interval 1800 s, no fsync per message)");
        Console.WriteLine();

        var ours = new List<(string Policy, Result Result)>();
        var peer = new List<Result>();
        try
        {
            foreach (var size in payloads)
            {
                // A fresh server per payload size, so one run's backlog (log segments, queued
                // deliveries) does not weigh on the next.
                foreach (var policy in policies)
                {
                    var agentDir = Path.Combine(root, $"edgestream-{policy}-{size}");
                    var (agent, ports) = await Servers.StartAgentWithPortsAsync(agentDll, agentDir, partitions, policy);
                    await using (agent)
                        ours.Add((policy, await RunAsync(ports.Mqtt, size, load, agent)));
                    Console.WriteLine($"  edgestream fsync={policy} {size} B: {ours[^1].Result}");
                }

                if (skipMosquitto) continue;
                var mosquittoDir = Path.Combine(root, $"mosquitto-{size}");
                var (mosquitto, port) = await Servers.StartMosquittoAsync(mosquittoBinary, mosquittoDir, mosquittoPersistence == "true");
                await using (mosquitto)
                    peer.Add(await RunAsync(port, size, load, mosquitto));
                Console.WriteLine($"  mosquitto {size} B: {peer[^1]}");
            }
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        Console.WriteLine();
        Report.Header("run", "payload B", "msg/s (PUBACKed)", "MB/s", "delivered", "e2e p50 ms", "e2e p99 ms", "e2e max ms", "msg/s vs mosquitto", "p99 vs mosquitto");
        for (var i = 0; i < payloads.Length; i++)
        {
            Result? p = skipMosquitto ? null : peer[i];
            for (var j = 0; j < policies.Length; j++)
            {
                var (policy, o) = ours[i * policies.Length + j];
                Report.Row($"edgestream (fsync={policy})", o.Payload, o.MsgPerSec, o.MBps, Percent(o.DeliveredShare), o.P50, o.P99, o.Max,
                    p is { } a ? o.MsgPerSec / a.MsgPerSec : double.NaN, p is { } b ? o.P99 / b.P99 : double.NaN);
            }
            if (p is { } m)
                Report.Row("mosquitto", m.Payload, m.MsgPerSec, m.MBps, Percent(m.DeliveredShare), m.P50, m.P99, m.Max, 1.0, 1.0);
        }
        return 0;
    }

    private static string Percent(double share) => share.ToString("P1", CultureInfo.InvariantCulture);

    private static int[] ParseSizes(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 8 || sizes[i] > 16 * 1024 * 1024)
                throw new ArgumentException($"--payloads: '{parts[i]}' is not a size between 8 B (the timestamp) and 16 MiB");
        }
        if (sizes.Length == 0) throw new ArgumentException("--payloads: at least one size");
        return sizes;
    }

    private static async Task<Result> RunAsync(int port, int payloadBytes, Load load, ChildProcess server)
    {
        var factory = new MqttClientFactory();
        var capacity = load.Messages > 0 ? load.Messages : 4_000_000;
        var latency = new LatencyRecorder(capacity);
        var latencyLock = new Lock();
        long warmupSeen = 0;

        using var subscriber = factory.CreateMqttClient();
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            var payload = e.ApplicationMessage.Payload;
            Span<byte> head = stackalloc byte[8];
            if (payload.Length >= 8)
            {
                payload.Slice(0, 8).CopyTo(head);
                bool stamped;
                // MQTTnet hands messages of one connection over one at a time; the lock makes the
                // recorder's single-consumer rule explicit.
                lock (latencyLock) stamped = latency.Record(head);
                if (!stamped) Interlocked.Increment(ref warmupSeen);
            }
            return Task.CompletedTask;
        };
        string? subscriberLost = null;
        subscriber.DisconnectedAsync += e =>
        {
            // Counted deliveries stop here; say so rather than report a silent drop in "delivered".
            subscriberLost ??= $"{e.Reason} {e.ReasonString} {e.Exception?.Message}".Trim();
            return Task.CompletedTask;
        };
        await subscriber.ConnectAsync(Options(port, "bench-sub", load.Protocol, load.TcpBuffer));
        await subscriber.SubscribeAsync(factory.CreateSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(TopicPrefix + "#").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
            .Build());

        var clients = new IMqttClient[load.Publishers];
        try
        {
            for (var i = 0; i < clients.Length; i++)
            {
                clients[i] = factory.CreateMqttClient();
                await clients[i].ConnectAsync(Options(port, $"bench-pub-{i}", load.Protocol, load.TcpBuffer));
            }

            // Warm-up: unstamped messages (JIT, first segment, topic creation), then wait until the
            // subscriber saw them, or at most 30 s (a broker may drop QoS 1 messages it cannot queue).
            if (load.Warmup > 0)
            {
                await PublishAsync(clients, payloadBytes, load.InFlight, load.Warmup, TimeSpan.FromSeconds(60), stamp: false);
                var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
                long last = -1;
                var idle = 0;
                while (Interlocked.Read(ref warmupSeen) < load.Warmup && Stopwatch.GetTimestamp() < deadline && idle < 20)
                {
                    await Task.Delay(50);
                    var now = Interlocked.Read(ref warmupSeen);
                    idle = now == last ? idle + 1 : 0;
                    last = now;
                }
            }

            var total = load.Messages > 0 ? load.Messages : int.MaxValue;
            var run = await PublishAsync(clients, payloadBytes, load.InFlight, total, load.Duration, stamp: true);

            // Deliveries trail the acknowledgements: wait until the subscriber has them all, or
            // until nothing arrived for a second (dropped by a full queue), at most 60 s.
            var drainDeadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
            var lastCount = -1;
            var quiet = 0;
            while (latency.Count < run.Acked && Stopwatch.GetTimestamp() < drainDeadline && quiet < 20)
            {
                await Task.Delay(50);
                var now = latency.Count;
                quiet = now == lastCount ? quiet + 1 : 0;
                lastCount = now;
            }
            if (server.HasExited) throw new InvalidOperationException($"{server.Name} exited during the run:\n{server.Output}");
            if (Volatile.Read(ref subscriberLost) is { } lost)
            {
                var output = server.Output;
                Console.WriteLine($"    the subscriber was disconnected by {server.Name}: {lost}\n    {server.Name}'s last output:\n{output[Math.Max(0, output.Length - 2000)..]}");
            }

            (double P50, double P99, double Max) percentiles;
            lock (latencyLock) percentiles = latency.Percentiles();
            return new Result(payloadBytes, run.Acked, run.Failed, run.Seconds, latency.Count, percentiles.P50, percentiles.P99, percentiles.Max);
        }
        finally
        {
            foreach (var client in clients)
            {
                if (client is null) continue;
                if (client.IsConnected) await client.DisconnectAsync();
                client.Dispose();
            }
            if (subscriber.IsConnected) await subscriber.DisconnectAsync();
        }
    }

    private static MqttClientOptions Options(int port, string clientId, MqttProtocolVersion protocol, int tcpBuffer)
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
        // behind. --tcp-buffer 0 keeps MQTTnet's default.
        if (tcpBuffer > 0) ((MqttClientTcpOptions)options.ChannelOptions).BufferSize = tcpBuffer;
        return options;
    }

    private readonly record struct RunStats(long Acked, long Failed, double Seconds);

    /// <summary>
    /// Every client runs <paramref name="inFlight"/> loops, each awaiting its PUBACK before sending
    /// the next: at most publishers x inFlight unacknowledged. Stops after <paramref name="count"/>
    /// messages or <paramref name="duration"/>, whichever is first.
    /// </summary>
    private static async Task<RunStats> PublishAsync(IMqttClient[] clients, int payloadBytes, int inFlight, int count, TimeSpan duration, bool stamp)
    {
        long issued = 0, acked = 0, failed = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var loops = new List<Task>(clients.Length * inFlight);
        for (var c = 0; c < clients.Length; c++)
        {
            var client = clients[c];
            var topic = TopicPrefix + c.ToString(CultureInfo.InvariantCulture);
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
        var all = Task.WhenAll(loops);
        // A PUBACK that never comes must not hang the bench: the client's own timeout is 30 s.
        await all.WaitAsync(duration + TimeSpan.FromSeconds(90));
        if (failed > 0) Console.WriteLine($"    {failed:N0} publishes refused; first: {firstError}");
        // The last loop ends with the last PUBACK.
        var end = Math.Max(Stopwatch.GetTimestamp(), start + 1);
        return new RunStats(Interlocked.Read(ref acked), failed, (end - start) / (double)Stopwatch.Frequency);
    }
}
