using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using MQTTnet;
using MQTTnet.Protocol;
using NATS.Client.JetStream.Models;
using NATS.Net;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// footprint: what the edge costs a small device, next to nats-server and mosquitto in the same run. For the
/// agent given with <c>--agent</c> (the NativeAOT binary; extra <c>run</c> flags with <c>--agent-args</c>, e.g.
/// "--profile small"): binary size; start to the first answered Kafka request (ApiVersions), median of
/// <c>--starts</c>; idle RSS after <c>--idle</c> seconds; peak RSS while taking <c>--rate</c> records/s of
/// <c>--record-bytes</c> over Kafka for <c>--seconds</c> and forwarding them to a cloud node; and where the memory
/// goes (/proc/PID/smaps grouped by mapping). The peers get the same idle wait and the same rate (JetStream
/// file-storage publish, MQTT QoS 1 publish).
/// </summary>
public static class FootprintScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var agent = Servers.AgentDll(args);
        var extra = args.String("agent-args", "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var rate = args.Int("rate", 10_000);
        var seconds = args.Int("seconds", 20);
        var idle = args.Int("idle", 5);
        var recordBytes = args.Int("record-bytes", 100);
        var starts = args.Int("starts", 5);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-footprint-" + Environment.ProcessId));
        Directory.CreateDirectory(root);
        var payload = new byte[recordBytes];
        new Random(1).NextBytes(payload);
        Console.WriteLine($"footprint: {agent} {string.Join(' ', extra)}; idle {idle} s; load {rate:N0} records/s x {recordBytes} B for {seconds} s");
        Console.WriteLine();

        try
        {
            var sizeMB = new FileInfo(agent).Length / 1e6;
            var startMs = new List<double>();
            for (var i = 0; i < starts; i++) startMs.Add(await StartToFirstKafkaAnswerAsync(agent, Path.Combine(root, $"start-{i}"), extra));
            startMs.Sort();

            // The edge forwards to a cloud node (the same binary), as on a device.
            var cloudPorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
            var cloudUplink = ChildProcess.FreePort();
            await using var cloud = await Servers.StartAgentAsync(agent, Path.Combine(root, "cloud"), cloudPorts, "cloud", ["--uplink", $"127.0.0.1:{cloudUplink}"]);
            var edgePorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
            await using var edge = await Servers.StartAgentAsync(agent, Path.Combine(root, "edge"), edgePorts, "edge", [.. extra, "--parent", $"127.0.0.1:{cloudUplink}"]);
            var edgeIdle = await IdleAsync(edge, idle);
            var edgeLoad = await UnderLoadAsync(edge, rate, seconds, KafkaSender($"127.0.0.1:{edgePorts.Kafka}", payload));
            Console.WriteLine("edge memory by mapping after the load (/proc/PID/smaps):");
            Smaps.Print(edge.Pid);
            Console.WriteLine();

            var (nats, natsUrl) = await Servers.StartNatsAsync(args, Path.Combine(root, "nats"));
            Memory natsIdle, natsLoad;
            await using (nats)
            {
                natsIdle = await IdleAsync(nats, idle);
                await using var client = new NatsClient(natsUrl);
                var js = client.CreateJetStreamContext();
                await js.CreateStreamAsync(new StreamConfig("FOOTPRINT", ["footprint"]) { Storage = StreamConfigStorage.File });
                natsLoad = await UnderLoadAsync(nats, rate, seconds, async n =>
                {
                    var acks = new Task[n];
                    for (var i = 0; i < n; i++) acks[i] = js.PublishAsync("footprint", payload).AsTask();
                    await Task.WhenAll(acks).ConfigureAwait(false);
                });
            }

            var (mosquitto, mqttPort) = await Servers.StartMosquittoAsync(args.String("mosquitto", "mosquitto"), Path.Combine(root, "mosquitto"), persistence: true);
            Memory mosquittoIdle, mosquittoLoad;
            await using (mosquitto)
            {
                mosquittoIdle = await IdleAsync(mosquitto, idle);
                using var mqtt = new MqttClientFactory().CreateMqttClient();
                await mqtt.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", mqttPort).WithClientId("footprint").Build());
                mosquittoLoad = await UnderLoadAsync(mosquitto, rate, seconds, async n =>
                {
                    var acks = new Task[n];
                    for (var i = 0; i < n; i++)
                        acks[i] = mqtt.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("footprint").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                    await Task.WhenAll(acks).ConfigureAwait(false);
                });
                await mqtt.DisconnectAsync();
            }

            Report.Header("process", "binary MB", "start to Kafka answer ms (median, min-max)", "idle RSS MB", "idle RssAnon MB", $"{rate / 1000}k/s peak RSS MB", $"{rate / 1000}k/s peak RssAnon MB", "records/s reached");
            Report.Row("edgestream edge", sizeMB, $"{startMs[startMs.Count / 2]:N0} ({startMs[0]:N0}-{startMs[^1]:N0})", edgeIdle.RssMB, edgeIdle.AnonMB, edgeLoad.RssMB, edgeLoad.AnonMB, edgeLoad.Rate);
            Report.Row("nats-server -js", "-", "-", natsIdle.RssMB, natsIdle.AnonMB, natsLoad.RssMB, natsLoad.AnonMB, natsLoad.Rate);
            Report.Row("mosquitto", "-", "-", mosquittoIdle.RssMB, mosquittoIdle.AnonMB, mosquittoLoad.RssMB, mosquittoLoad.AnonMB, mosquittoLoad.Rate);
            Console.WriteLine();
            Goal("edge idle RSS", edgeIdle.RssMB, 30, "MB");
            Goal($"edge RSS at {rate:N0} records/s", edgeLoad.RssMB, 64, "MB");
            Goal("start to first Kafka answer (median)", startMs[startMs.Count / 2], 100, "ms");
            Goal("binary size", sizeMB, 25, "MB");
            return 0;
        }
        finally
        {
            UplinkScenarios.TryDelete(root);
        }
    }

    private readonly record struct Memory(double RssMB, double AnonMB, double Rate);

    private static void Goal(string what, double value, double goal, string unit) =>
        Console.WriteLine(value <= goal
            ? $"goal met: {what} {value:N1} {unit} <= {goal} {unit}"
            : $"goal MISSED: {what} {value:N1} {unit} > {goal} {unit}, by {value - goal:N1} {unit}");

    private static async Task<Memory> IdleAsync(ChildProcess process, int idleSeconds)
    {
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
        return new Memory(UplinkScenarios.RssMB(process.Pid), UplinkScenarios.RssMB(process.Pid, "RssAnon:"), 0);
    }

    /// <summary>
    /// Sends <paramref name="rate"/> records/s for <paramref name="seconds"/> in 10 ms ticks (each tick's share
    /// awaited before the next, so a slow server lowers the rate reached rather than piling up), sampling the
    /// server's RSS every tick; returns the peaks and the rate reached.
    /// </summary>
    private static async Task<Memory> UnderLoadAsync(ChildProcess process, int rate, int seconds, Func<int, Task> send)
    {
        const int TicksPerSecond = 100;
        var perTick = Math.Max(1, rate / TicksPerSecond);
        var peak = 0.0;
        var peakAnon = 0.0;
        long sent = 0;
        var clock = Stopwatch.StartNew();
        for (var tick = 0; tick < seconds * TicksPerSecond; tick++)
        {
            await send(perTick);
            sent += perTick;
            peak = Math.Max(peak, UplinkScenarios.RssMB(process.Pid));
            peakAnon = Math.Max(peakAnon, UplinkScenarios.RssMB(process.Pid, "RssAnon:"));
            var due = TimeSpan.FromSeconds((tick + 1) / (double)TicksPerSecond) - clock.Elapsed;
            if (due > TimeSpan.Zero) await Task.Delay(due);
        }
        return new Memory(peak, peakAnon, sent / clock.Elapsed.TotalSeconds);
    }

    private static Func<int, Task> KafkaSender(string bootstrap, byte[] payload)
    {
        var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap, Acks = Acks.Leader, LingerMs = 5, CompressionType = CompressionType.None,
        }).SetLogHandler((_, _) => { }).Build();
        return async n =>
        {
            var acks = new Task[n];
            for (var i = 0; i < n; i++) acks[i] = producer.ProduceAsync("footprint", new Message<Null, byte[]> { Value = payload });
            await Task.WhenAll(acks).ConfigureAwait(false);
        };
    }

    /// <summary>
    /// Starts the agent on fresh ports and data and times it to the first answered Kafka request: an ApiVersions v0
    /// (request header: api key 18, version 0, correlation id, null client id) sent every millisecond until a
    /// response arrives. A bound port alone is not enough: the answer proves the broker is serving.
    /// </summary>
    private static async Task<double> StartToFirstKafkaAnswerAsync(string agent, string dataDir, string[] extra)
    {
        Directory.CreateDirectory(dataDir);
        var kafka = ChildProcess.FreePort();
        var clock = Stopwatch.StartNew();
        var native = !agent.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        List<string> runArgs = ["run", "--data", dataDir, "--kafka", $"127.0.0.1:{kafka}", "--http", $"127.0.0.1:{ChildProcess.FreePort()}",
            "--mqtt", $"127.0.0.1:{ChildProcess.FreePort()}", "--gossip", $"127.0.0.1:{ChildProcess.FreePort()}", "--mdns", "off", .. extra];
        await using var process = native ? ChildProcess.Start("edge", agent, runArgs, dataDir) : ChildProcess.Start("edge", "dotnet", [agent, .. runArgs], dataDir);
        var request = new byte[4 + 10];
        BinaryPrimitives.WriteInt32BigEndian(request, 10);
        BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(4), 18);
        BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(6), 0);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 1);
        BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(12), -1);
        var response = new byte[4];
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited) throw new InvalidOperationException($"the agent exited before answering:\n{process.Output}");
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, kafka);
                await socket.SendAsync(request);
                if (await socket.ReceiveAsync(response) > 0) return clock.Elapsed.TotalMilliseconds;
            }
            catch (SocketException)
            {
            }
            await Task.Delay(1);
        }
        throw new TimeoutException($"no Kafka answer within 60 s:\n{process.Output}");
    }
}

/// <summary>Where a process's resident memory goes: /proc/PID/smaps summed by mapping kind.</summary>
internal static class Smaps
{
    public static void Print(int pid)
    {
        var rss = new Dictionary<string, long>(StringComparer.Ordinal);
        var kind = "";
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
            {
                if (line.Length > 0 && char.IsAsciiHexDigit(line[0]) && line.Contains('-'))
                {
                    kind = Kind(line);
                }
                else if (line.StartsWith("Rss:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line.AsSpan(4).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
                    rss[kind] = rss.GetValueOrDefault(kind) + kb;
                }
            }
        }
        catch (IOException)
        {
            return;
        }
        foreach (var (name, kb) in rss.OrderByDescending(p => p.Value).Where(p => p.Value >= 256))
            Console.WriteLine($"  {kb / 1024.0,7:N1} MB  {name}");
    }

    /// <summary>"anonymous" (GC heap, stacks, native buffers), the executable, a segment file, a library, or a named region.</summary>
    private static string Kind(string header)
    {
        // 7f..-7f.. rw-p 00000000 00:00 0      [pathname]
        var parts = header.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 6) return "anonymous (GC heap, thread stacks, native allocations)";
        var path = parts[5].Trim();
        if (path.StartsWith('[')) return path;
        if (path.EndsWith(".log", StringComparison.Ordinal) || path.EndsWith(".index", StringComparison.Ordinal) || path.EndsWith(".timeindex", StringComparison.Ordinal))
            return "segment files (mapped log and index pages)";
        if (path.Contains(".so", StringComparison.Ordinal)) return "shared library " + Path.GetFileName(path);
        return "file " + Path.GetFileName(path);
    }
}
