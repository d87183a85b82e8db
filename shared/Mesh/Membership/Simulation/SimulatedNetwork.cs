using System.Net;

namespace EdgeStream.Mesh.Membership.Simulation;

/// <summary>One simulated machine: its address, whether it runs, and its view of the clock.</summary>
public sealed class SimulatedHost
{
    internal SimulatedHost(SimulatedClock clock, IPEndPoint endPoint)
    {
        EndPoint = endPoint;
        Clock = new HostClock(clock, this);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The clock the host's membership runs on: its timers stop while the host is paused.</summary>
    public TimeProvider Clock { get; }

    /// <summary>Crashed: its events are dropped and nothing reaches it any more.</summary>
    public bool IsKilled { get; internal set; }

    /// <summary>Virtual timestamp until which the host is frozen.</summary>
    public long PausedUntil { get; internal set; }

    internal IGossipReceiver? Receiver { get; set; }

    private sealed class HostClock(SimulatedClock clock, SimulatedHost host) : TimeProvider
    {
        public override long TimestampFrequency => clock.TimestampFrequency;

        public override long GetTimestamp() => clock.GetTimestamp();

        public override DateTimeOffset GetUtcNow() => clock.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            clock.CreateTimer(host, callback, state, dueTime, period);
    }
}

/// <summary>
/// An in-process network on a <see cref="SimulatedClock"/>: datagrams are delayed by a random
/// latency and lost at <see cref="LossRate"/> (each independently, from a seeded generator); stream
/// exchanges are reliable but fail on a partition or a dead peer after their timeout. Links can be
/// blocked one way or both ways, hosts paused and killed. Nothing here touches a socket.
/// </summary>
public sealed class SimulatedNetwork
{
    private readonly Dictionary<IPEndPoint, SimulatedHost> _hosts = [];
    private readonly HashSet<(IPEndPoint From, IPEndPoint To)> _blocked = [];
    private readonly Random _random;

    public SimulatedNetwork(SimulatedClock clock, int seed)
    {
        Clock = clock;
        _random = new Random(seed);
    }

    public SimulatedClock Clock { get; }

    /// <summary>Probability that a datagram is lost, 0..1. Default 0.</summary>
    public double LossRate { get; set; }

    /// <summary>One-way latency range (uniform). Default 0.5–5 ms, a busy LAN.</summary>
    public TimeSpan MinLatency { get; set; } = TimeSpan.FromMilliseconds(0.5);

    public TimeSpan MaxLatency { get; set; } = TimeSpan.FromMilliseconds(5);

    public long DatagramsSent { get; private set; }

    public long DatagramsLost { get; private set; }

    /// <summary>Datagram payload bytes sent (lost ones included: the sender paid for them).</summary>
    public long DatagramBytesSent { get; private set; }

    /// <summary>Stream exchange payload bytes, requests and replies.</summary>
    public long StreamBytesSent { get; private set; }

    /// <summary>Largest datagram sent so far, in bytes.</summary>
    public int LargestDatagram { get; private set; }

    /// <summary>A new host at <paramref name="endPoint"/> (replacing a killed or detached one) and its transport.</summary>
    public SimulatedTransport Attach(IPEndPoint endPoint)
    {
        if (_hosts.TryGetValue(endPoint, out var existing) && !existing.IsKilled)
            throw new InvalidOperationException($"{endPoint} is in use");
        var host = new SimulatedHost(Clock, endPoint);
        _hosts[endPoint] = host;
        return new SimulatedTransport(this, host);
    }

    /// <summary>Crashes the host at <paramref name="endPoint"/>: no leave, no more timers, no more traffic.</summary>
    public void Kill(IPEndPoint endPoint)
    {
        if (_hosts.TryGetValue(endPoint, out var host)) host.IsKilled = true;
    }

    /// <summary>Freezes the host for <paramref name="duration"/> (a stop-the-world pause): what arrives meanwhile is processed after.</summary>
    public void Pause(IPEndPoint endPoint, TimeSpan duration)
    {
        if (_hosts.TryGetValue(endPoint, out var host)) host.PausedUntil = Clock.GetTimestamp() + duration.Ticks;
    }

    /// <summary>Drops everything sent from <paramref name="from"/> to <paramref name="to"/> (one way).</summary>
    public void Block(IPEndPoint from, IPEndPoint to) => _blocked.Add((from, to));

    /// <summary>Blocks every link from side <paramref name="a"/> to side <paramref name="b"/>, and back unless <paramref name="oneWay"/>.</summary>
    public void Partition(IEnumerable<IPEndPoint> a, IEnumerable<IPEndPoint> b, bool oneWay = false)
    {
        var right = b.ToList();
        foreach (var x in a)
        {
            foreach (var y in right)
            {
                _blocked.Add((x, y));
                if (!oneWay) _blocked.Add((y, x));
            }
        }
    }

    /// <summary>Removes every block.</summary>
    public void Heal() => _blocked.Clear();

    private bool IsBlocked(IPEndPoint from, IPEndPoint to) => _blocked.Count > 0 && _blocked.Contains((from, to));

    private TimeSpan Latency() => MinLatency + (MaxLatency - MinLatency) * _random.NextDouble();

    internal void Send(SimulatedHost from, IPEndPoint to, ReadOnlySpan<byte> datagram)
    {
        if (from.IsKilled) return;
        DatagramsSent++;
        DatagramBytesSent += datagram.Length;
        if (datagram.Length > LargestDatagram) LargestDatagram = datagram.Length;
        // Draw the loss for every datagram, blocked or not, so a partition does not shift the random sequence of the rest.
        var lost = _random.NextDouble() < LossRate;
        if (lost || IsBlocked(from.EndPoint, to) || !_hosts.TryGetValue(to, out var target))
        {
            DatagramsLost++;
            return;
        }
        var copy = datagram.ToArray();
        var source = from.EndPoint;
        Clock.Schedule(Latency(), () => target.Receiver?.OnDatagram(source, copy), target);
    }

    internal Task<byte[]> Exchange(SimulatedHost from, IPEndPoint to, ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<byte[]>();
        if (cancellationToken.CanBeCanceled)
            cancellationToken.Register(() => reply.TrySetCanceled(cancellationToken));
        // A lost SYN or a dead peer shows as silence until the timeout, as over TCP.
        Clock.Schedule(timeout, () => reply.TrySetException(new MeshException($"exchange with {to} timed out")));
        var source = from.EndPoint;
        if (IsBlocked(source, to) || IsBlocked(to, source) || !_hosts.TryGetValue(to, out var target)) return reply.Task;
        // A crashed peer never completes the connection, so no request payload is sent (counted).
        if (target.IsKilled) return reply.Task;
        var copy = request.ToArray();
        StreamBytesSent += copy.Length;
        Clock.Schedule(Latency(), () =>
        {
            if (target.Receiver is not { } receiver || IsBlocked(to, source)) return;
            var answer = receiver.OnExchange(source, copy);
            if (answer is null)
            {
                Clock.Schedule(Latency(), () => reply.TrySetException(new MeshException($"{to} closed the exchange")), from);
                return;
            }
            StreamBytesSent += answer.Length;
            Clock.Schedule(Latency(), () => reply.TrySetResult(answer), from);
        }, target);
        return reply.Task;
    }
}

/// <summary>The <see cref="IGossipTransport"/> of one simulated host.</summary>
public sealed class SimulatedTransport : IGossipTransport
{
    private readonly SimulatedNetwork _network;

    internal SimulatedTransport(SimulatedNetwork network, SimulatedHost host)
    {
        _network = network;
        Host = host;
    }

    public SimulatedHost Host { get; }

    public IPEndPoint LocalEndPoint => Host.EndPoint;

    public void Start(IGossipReceiver receiver) => Host.Receiver = receiver;

    public void SendDatagram(IPEndPoint to, ReadOnlySpan<byte> datagram) => _network.Send(Host, to, datagram);

    public Task<byte[]> ExchangeAsync(IPEndPoint to, ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _network.Exchange(Host, to, request, timeout, cancellationToken);

    /// <summary>Detaches the host: it receives nothing more (a clean stop; <see cref="SimulatedNetwork.Kill"/> is a crash).</summary>
    public ValueTask DisposeAsync()
    {
        Host.Receiver = null;
        Host.IsKilled = true;
        return ValueTask.CompletedTask;
    }
}
