using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeStream.Mesh.Discovery;
using EdgeStream.Mesh.DiscoveryHost;
using Microsoft.Extensions.Logging;

// Usage: EdgeStream.Mesh.DiscoveryHost --node-id ID [--role R] [--cluster C] [--instance NAME] [--port P]
//        [--uplink-port P] [--gossip-port P] [--ttl SECONDS] [--interface NAME]... [--no-advertise] [--no-browse]
//        [--ipv4-only]
// Prints one JSON object per line on stdout: {"event":"claimed"|"found"|"updated"|"lost"|"stopped",...}.
// Runs until SIGTERM or SIGINT, then stops cleanly (goodbye) and prints the counters.
var options = HostArguments.Parse(args);
using var loggerFactory = new StderrLoggerFactory(args.Contains("--debug") ? LogLevel.Debug : LogLevel.Information);
var discovery = new MdnsDiscovery(options, loggerFactory.CreateLogger<MdnsDiscovery>());
var output = new JsonLines(Console.OpenStandardOutput());

discovery.PeerFound += (_, p) => output.Peer("found", p);
discovery.PeerUpdated += (_, p) => output.Peer("updated", p);
discovery.PeerLost += (_, p) => output.Peer("lost", p);

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

await discovery.StartAsync(CancellationToken.None);
_ = discovery.Claimed.ContinueWith(t => output.Claimed(t.Result.Instance, t.Result.Host), TaskContinuationOptions.OnlyOnRanToCompletion);
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}
await discovery.StopAsync(CancellationToken.None);
output.Stopped(discovery.Counters);
return 0;

namespace EdgeStream.Mesh.DiscoveryHost
{
    internal static class HostArguments
    {
        public static MdnsOptions Parse(string[] args)
        {
            string? nodeId = null, instance = null;
            string role = "edge", cluster = "default";
            int port = 9095, uplink = 0, gossip = 0;
            TimeSpan? ttl = null;
            var interfaces = new List<string>();
            bool advertise = true, browse = true, ipv6 = true;
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--node-id": nodeId = Next(); break;
                    case "--role": role = Next(); break;
                    case "--cluster": cluster = Next(); break;
                    case "--instance": instance = Next(); break;
                    case "--port": port = int.Parse(Next()); break;
                    case "--uplink-port": uplink = int.Parse(Next()); break;
                    case "--gossip-port": gossip = int.Parse(Next()); break;
                    case "--ttl": ttl = TimeSpan.FromSeconds(int.Parse(Next())); break;
                    case "--interface": interfaces.Add(Next()); break;
                    case "--no-advertise": advertise = false; break;
                    case "--no-browse": browse = false; break;
                    case "--ipv4-only": ipv6 = false; break;
                    case "--debug": break;
                    default: throw new ArgumentException($"unknown argument {args[i]}");
                }
            }
            return new MdnsOptions
            {
                NodeId = nodeId ?? throw new ArgumentException("--node-id is required"),
                Role = role,
                Cluster = cluster,
                InstanceName = instance,
                Port = port,
                UplinkPort = uplink,
                GossipPort = gossip,
                Interfaces = interfaces,
                Advertise = advertise,
                Browse = browse,
                UseIPv6 = ipv6,
                HostRecordTtl = ttl ?? TimeSpan.FromSeconds(120),
                ServiceRecordTtl = ttl ?? TimeSpan.FromMinutes(75),
            };
        }
    }

    /// <summary>JSON lines on stdout, one writer at a time (events come from the discovery loop and from Main).</summary>
    internal sealed class JsonLines(Stream stdout)
    {
        private readonly Lock _lock = new();

        public void Claimed(string instance, string host) => Write(w =>
        {
            w.WriteString("event", "claimed");
            w.WriteString("instance", instance);
            w.WriteString("host", host);
        });

        public void Peer(string kind, DiscoveredPeer p) => Write(w =>
        {
            w.WriteString("event", kind);
            w.WriteString("instance", p.Instance);
            w.WriteString("nodeId", p.NodeId);
            w.WriteString("role", p.Role);
            w.WriteString("cluster", p.Cluster);
            w.WriteString("host", p.HostName);
            w.WriteNumber("port", p.Port);
            w.WriteNumber("uplinkPort", p.UplinkPort);
            w.WriteNumber("gossipPort", p.GossipPort);
            w.WriteStartArray("addresses");
            foreach (var a in p.Addresses) w.WriteStringValue(a.ToString());
            w.WriteEndArray();
        });

        public void Stopped(MdnsCounters c) => Write(w =>
        {
            w.WriteString("event", "stopped");
            w.WriteNumber("packetsReceived", c.PacketsReceived);
            w.WriteNumber("packetsSent", c.PacketsSent);
            w.WriteNumber("malformedDropped", c.MalformedDropped);
            w.WriteNumber("undecodableDropped", c.UndecodableDropped);
            w.WriteNumber("conflicts", c.Conflicts);
            w.WriteNumber("knownAnswersSuppressed", c.KnownAnswersSuppressed);
        });

        private void Write(Action<Utf8JsonWriter> body)
        {
            lock (_lock)
            {
                using (var writer = new Utf8JsonWriter(stdout))
                {
                    writer.WriteStartObject();
                    body(writer);
                    writer.WriteEndObject();
                }
                stdout.WriteByte((byte)'\n');
                stdout.Flush();
            }
        }
    }

    /// <summary>Log lines on stderr, so that the test shows them when it fails.</summary>
    internal sealed class StderrLoggerFactory(LogLevel minimum) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new StderrLogger(minimum);
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() { }

        private sealed class StderrLogger(LogLevel minimum) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {eventId.Id} {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
            }
        }
    }
}
