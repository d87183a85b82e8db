using System.Globalization;
using MQTTnet.Formatter;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// mqtt-publish: the agent's MQTT listener (each <c>--engine</c>: the own broker core or MQTTnet's
/// server; each <c>--fsync</c> policy, a PUBACK meaning the message is in the log under it) against
/// Debian's mosquitto, all started by the bench on free loopback ports with their own data
/// directories, in the same run. Each <c>--case</c>: <c>publish</c> (<c>--publishers</c> QoS 1
/// publishers, one subscriber on <c>bench/#</c> measuring end-to-end latency), <c>fanout</c> (one
/// publisher, <c>--subscribers</c> subscribers on one topic) and <c>clients</c> (<c>--clients</c>
/// connections at <c>--rate</c> msg/s each). Every row has the broker's CPU per message from
/// <c>/proc/PID/stat</c> and the load average, since the machine is shared.
/// </summary>
public static class MqttPublishScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var publishers = args.Int("publishers", 4);
        var inFlight = args.Int("inflight", 16);
        var messages = args.Int("messages", 0);
        var seconds = args.Int("seconds", 10);
        var warmup = args.Int("warmup", 2_000);
        var partitions = args.Int("partitions", 1);
        var tcpBuffer = args.Int("tcp-buffer", 1 << 20);
        var subscriberTcpBuffer = args.Int("subscriber-tcp-buffer", tcpBuffer);
        var subscribers = args.Int("subscribers", 100);
        var clientCount = args.Int("clients", 1_000);
        var rate = double.Parse(args.String("rate", "1"), CultureInfo.InvariantCulture);
        var policies = List(args.String("fsync", "group"));
        var engines = List(args.String("engine", "own"));
        var cases = List(args.String("case", "publish"));
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
        if (publishers <= 0 || inFlight <= 0 || messages < 0 || seconds <= 0 || warmup < 0 || partitions <= 0 || tcpBuffer < 0 || subscriberTcpBuffer < 0)
            throw new ArgumentException("--publishers, --inflight, --seconds and --partitions must be positive; --messages, --warmup and --tcp-buffer not negative");
        if (subscribers <= 0 || clientCount <= 0 || !(rate > 0 && rate <= 1000))
            throw new ArgumentException("--subscribers and --clients must be positive, --rate in (0, 1000]");
        if (mosquittoPersistence is not ("true" or "false"))
            throw new ArgumentException("--mosquitto-persistence: expected true or false");
        if (policies.Length == 0 || engines.Length == 0 || cases.Length == 0) throw new ArgumentException("--fsync, --engine, --case: at least one each");
        if (engines.FirstOrDefault(e => e is not ("own" or "mqttnet")) is { } badEngine) throw new ArgumentException($"--engine {badEngine}: expected own or mqttnet");
        if (cases.FirstOrDefault(c => c is not ("publish" or "fanout" or "clients")) is { } badCase) throw new ArgumentException($"--case {badCase}: expected publish, fanout or clients");
        if (messages > 0 && messages < publishers) throw new ArgumentException("--messages must be at least --publishers");
        // Every connection is a descriptor in the bench and one in the broker (both ends are local).
        if (cases.Contains("clients")) CheckDescriptorLimit(clientCount);

        var load = new MqttBenchLoad(publishers, inFlight, messages, TimeSpan.FromSeconds(seconds), warmup, protocol, tcpBuffer, subscriberTcpBuffer,
            subscribers, clientCount, rate);
        var agentDll = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-" + Environment.ProcessId));
        Directory.CreateDirectory(root);

        var brokers = new List<MqttBenchBroker>();
        foreach (var engine in engines)
            foreach (var policy in policies)
                brokers.Add(new($"edgestream {engine} (fsync={policy})", async dir =>
                {
                    var (agent, ports) = await Servers.StartAgentWithPortsAsync(agentDll, dir, partitions, policy, ["--mqtt-engine", engine]);
                    return (agent, ports.Mqtt);
                }));
        if (!skipMosquitto)
            brokers.Add(new("mosquitto", dir => Servers.StartMosquittoAsync(mosquittoBinary, dir, mosquittoPersistence == "true")));

        var limit = messages > 0 ? $"{messages:N0} messages or {seconds} s" : $"{seconds} s";
        Console.WriteLine($"mqtt-publish: cases {string.Join(", ", cases)}; QoS 1, MQTT {(protocol == MqttProtocolVersion.V500 ? "5" : "3.1.1")}, payloads {string.Join(", ", payloads)} B, {limit} per run, {warmup:N0} warm-up messages first");
        Console.WriteLine($"  publish: {publishers} publishers x {inFlight} in flight, 1 subscriber on bench/#; fanout: 1 publisher x {inFlight} in flight, {subscribers} subscribers; clients: {clientCount:N0} connections x {rate} msg/s");
        Console.WriteLine($"  client TCP buffers {Buffer(tcpBuffer)}, subscribers' {Buffer(subscriberTcpBuffer)}");
        Console.WriteLine($"  edgestream: {agentDll}, --partitions {partitions}, --mqtt-engine {string.Join(", ", engines)}, --fsync {string.Join(", ", policies)} (PUBACK once the append is done under that policy: durable for group and always)");
        if (!skipMosquitto)
            Console.WriteLine($"  mosquitto: {mosquittoBinary}, persistence {mosquittoPersistence} (autosave_interval 1800 s, no fsync per message)");
        Console.WriteLine();

        var publishRows = new List<(string Case, string Label, MqttPublishCase.Result Result)>();
        var clientRows = new List<(string Label, MqttManyClientsCase.Result Result)>();
        try
        {
            foreach (var benchCase in cases)
                foreach (var size in payloads)
                    // A fresh server per run, so one run's backlog (log segments, queued deliveries) does not weigh on the next.
                    foreach (var broker in brokers)
                    {
                        var dir = Path.Combine(root, $"{benchCase}-{size}-{brokers.IndexOf(broker)}");
                        var (server, port) = await broker.StartAsync(dir);
                        await using (server)
                        {
                            if (benchCase == "clients")
                            {
                                clientRows.Add((broker.Label, await MqttManyClientsCase.RunAsync(port, size, load, server)));
                                Console.WriteLine($"  {benchCase} {broker.Label} {size} B: {clientRows[^1].Result}");
                            }
                            else
                            {
                                publishRows.Add((benchCase, broker.Label, await MqttPublishCase.RunAsync(port, size, load, server, fanOut: benchCase == "fanout")));
                                Console.WriteLine($"  {benchCase} {broker.Label} {size} B: {publishRows[^1].Result}");
                            }
                        }
                    }
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        PrintPublishTables(publishRows, skipMosquitto);
        PrintClientTable(clientRows, skipMosquitto);
        return 0;
    }

    private static void PrintPublishTables(List<(string Case, string Label, MqttPublishCase.Result Result)> rows, bool skipMosquitto)
    {
        foreach (var group in rows.GroupBy(r => r.Case))
        {
            Console.WriteLine();
            Console.WriteLine($"case {group.Key}:");
            Report.Header("run", "payload B", "msg/s (PUBACKed)", "delivered msg/s", "delivered", "e2e p50 ms", "e2e p99 ms", "e2e max ms",
                "broker CPU µs/msg", "load", "msg/s vs mosquitto", "delivered/s vs mosquitto", "CPU/msg vs mosquitto");
            foreach (var (_, label, r) in group)
            {
                var peer = skipMosquitto ? (MqttPublishCase.Result?)null : group.First(p => p.Label == "mosquitto" && p.Result.Payload == r.Payload).Result;
                // Fan-out: CPU per delivered message, the unit of work there; publish: per PUBACKed message.
                var perMsg = r.Cost.MicrosPer(group.Key == "fanout" ? r.Delivered : r.Acked);
                var peerPerMsg = peer is { } q ? q.Cost.MicrosPer(group.Key == "fanout" ? q.Delivered : q.Acked) : double.NaN;
                Report.Row(label, r.Payload, r.MsgPerSec, r.DeliveredPerSec, Percent(r.DeliveredShare), r.P50, r.P99, r.Max, perMsg, r.Cost.LoadAverage,
                    peer is { } a ? r.MsgPerSec / a.MsgPerSec : double.NaN, peer is { } b ? r.DeliveredPerSec / b.DeliveredPerSec : double.NaN, perMsg / peerPerMsg);
            }
        }
    }

    private static void PrintClientTable(List<(string Label, MqttManyClientsCase.Result Result)> rows, bool skipMosquitto)
    {
        if (rows.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine("case clients:");
        Report.Header("run", "payload B", "clients", "msg/s (PUBACKed)", "PUBACK p50 ms", "PUBACK p99 ms", "PUBACK max ms", "broker CPU µs/msg", "broker CPU %",
            "broker RSS MiB", "connect s", "load", "CPU/msg vs mosquitto");
        foreach (var (label, r) in rows)
        {
            var peer = skipMosquitto ? (MqttManyClientsCase.Result?)null : rows.First(p => p.Label == "mosquitto" && p.Result.Payload == r.Payload).Result;
            var perMsg = r.Cost.MicrosPer(r.Acked);
            Report.Row(label, r.Payload, r.Clients, r.MsgPerSec, r.P50, r.P99, r.Max, perMsg, r.Cost.CpuSeconds / r.Seconds * 100, r.RssMiB, r.ConnectSeconds,
                r.Cost.LoadAverage, peer is { } p ? perMsg / p.Cost.MicrosPer(p.Acked) : double.NaN);
        }
    }

    private static void CheckDescriptorLimit(int clients)
    {
        // RLIMIT_NOFILE is inherited by the broker processes the bench starts.
        var limit = GetDescriptorLimit();
        if (limit is { } n && n < clients + 200)
            throw new ArgumentException($"--clients {clients}: the open file limit is {n}; raise it (ulimit -n {clients * 2 + 1000}) or lower --clients");
    }

    private static long? GetDescriptorLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
        }
        return null;
    }

    private static string[] List(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Buffer(int bytes) => bytes > 0 ? bytes.ToString("N0", CultureInfo.InvariantCulture) + " B" : "MQTTnet default (8 KiB)";

    private static string Percent(double share) => share.ToString("P1", CultureInfo.InvariantCulture);

    private static int[] ParseSizes(string text)
    {
        var parts = List(text);
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 8 || sizes[i] > 16 * 1024 * 1024)
                throw new ArgumentException($"--payloads: '{parts[i]}' is not a size between 8 B (the timestamp) and 16 MiB");
        }
        if (sizes.Length == 0) throw new ArgumentException("--payloads: at least one size");
        return sizes;
    }
}
