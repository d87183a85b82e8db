using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mesh.Discovery;

/// <summary>
/// mDNS / DNS-SD discovery of EdgeStream nodes on the LAN: advertises this node (<see cref="MdnsResponder"/>)
/// and browses for the others (<see cref="MdnsBrowser"/>) over our own UDP sockets. A hosted service: start
/// it with the host, or call <see cref="BackgroundService.StartAsync"/>/<see cref="BackgroundService.StopAsync"/>;
/// a clean stop sends the goodbye. Peer events are raised on the discovery's own loop: handlers must be quick
/// (hand the peer to a channel) and must not call back into this object synchronously.
/// </summary>
public sealed class MdnsDiscovery : BackgroundService
{
    private const int QueueCapacity = 1024;

    private readonly MdnsOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly MdnsResponder _responder;
    private readonly MdnsBrowser _browser;
    private readonly TaskCompletionSource<(string Instance, string Host)> _claimed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile DiscoveredPeer[] _peers = [];
    private bool _warnedNoLinks;

    public MdnsDiscovery(MdnsOptions options, ILogger<MdnsDiscovery> logger, TimeProvider? time = null)
    {
        options.Validate();
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Counters = new MdnsCounters();
        _responder = new MdnsResponder(options, _time, Random.Shared, Counters, logger);
        _browser = new MdnsBrowser(options, _time, Random.Shared, Counters, logger);
        _responder.Claimed += (instance, host) => _claimed.TrySetResult((instance, host));
        _browser.PeerFound += p => OnPeer(p, PeerFound);
        _browser.PeerUpdated += p => OnPeer(p, PeerUpdated);
        _browser.PeerLost += p => OnPeer(p, PeerLost);
    }

    /// <summary>A peer of our cluster appeared (resolved to addresses and ports).</summary>
    public event EventHandler<DiscoveredPeer>? PeerFound;

    /// <summary>A known peer's addresses, ports or TXT changed.</summary>
    public event EventHandler<DiscoveredPeer>? PeerUpdated;

    /// <summary>A peer said goodbye or its records expired; the argument is its last view.</summary>
    public event EventHandler<DiscoveredPeer>? PeerLost;

    /// <summary>The peers known now (a snapshot).</summary>
    public IReadOnlyList<DiscoveredPeer> Peers => _peers;

    public MdnsCounters Counters { get; }

    /// <summary>Completes with the instance and host labels once probing claimed them (the first time).</summary>
    public Task<(string Instance, string Host)> Claimed => _claimed.Task;

    /// <summary>The instance label in force (it changes after a conflict).</summary>
    public string InstanceName => _responder.Instance;

    /// <summary>The host label in force, without <c>.local</c>.</summary>
    public string HostName => _responder.Host;

    private void OnPeer(DiscoveredPeer peer, EventHandler<DiscoveredPeer>? handler)
    {
        _peers = [.. _browser.Peers];
        handler?.Invoke(this, peer);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        MdnsLog.Starting(_logger, _options.EffectiveInstanceName, _options.EffectiveHostName, _options.Cluster, _options.ServiceType, _options.Advertise, _options.Browse);
        using var transport = new MdnsTransport(Counters);
        var v6Problem = transport.Open(_options.UseIPv4, _options.UseIPv6);
        if (v6Problem is not null && _options.UseIPv6) MdnsLog.NoIPv6(_logger, v6Problem);

        var queue = Channel.CreateBounded<MdnsReceived>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        using var receiving = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var receivers = new List<Task>();
        foreach (var family in (AddressFamily[])[AddressFamily.InterNetwork, AddressFamily.InterNetworkV6])
        {
            if (family == AddressFamily.InterNetwork ? !transport.HasIPv4 : !transport.HasIPv6) continue;
            receivers.Add(Task.Run(() => transport.ReceiveLoopAsync(family, queue.Writer, reason => MdnsLog.ReceiveFailed(_logger, reason), receiving.Token), CancellationToken.None));
        }

        var output = new List<MdnsSend>();
        IReadOnlyList<MdnsLink> links = [];
        var started = false;
        try
        {
            var nextScan = DateTimeOffset.MinValue;
            while (!stoppingToken.IsCancellationRequested)
            {
                var now = _time.GetUtcNow();
                if (now >= nextScan)
                {
                    links = Rescan(transport, links, started);
                    started |= links.Count > 0;
                    nextScan = now + _options.InterfaceRescanInterval;
                }
                while (queue.Reader.TryRead(out var packet)) Handle(packet, links, output);
                if (_options.Advertise) _responder.Tick(output);
                if (_options.Browse) _browser.Tick(output);
                Send(transport, output);

                var due = Min(Min(_responder.NextDue, _browser.NextDue), nextScan);
                var wait = due - _time.GetUtcNow();
                if (wait > TimeSpan.Zero && !queue.Reader.TryPeek(out _)) await WaitAsync(queue.Reader, wait, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Goodbye while the sockets are still open: peers drop us at once instead of after the TTL.
            if (_options.Advertise && started)
            {
                var claimed = _responder.State is MdnsResponderState.Announcing or MdnsResponderState.Announced;
                _responder.Stop(output);
                Send(transport, output);
                if (claimed) MdnsLog.Goodbye(_logger, _responder.Instance);
            }
            _browser.Stop();
            await receiving.CancelAsync().ConfigureAwait(false);
            transport.Dispose();
            await Task.WhenAll(receivers).ConfigureAwait(false);
        }
    }

    private IReadOnlyList<MdnsLink> Rescan(MdnsTransport transport, IReadOnlyList<MdnsLink> current, bool started)
    {
        var missing = new List<string>();
        var scanned = MdnsInterfaces.Scan(_options, transport.HasIPv6, missing);
        if (started && MdnsLink.SameSet(current, scanned)) return current;

        var joined = new List<MdnsLink>();
        foreach (var link in scanned)
        {
            if (transport.Join(link, out var reason)) joined.Add(link);
            else MdnsLog.JoinFailed(_logger, link.ToString(), reason ?? "no socket");
        }
        foreach (var link in current)
            if (!joined.Exists(l => l.InterfaceIndex == link.InterfaceIndex && l.Family == link.Family)) transport.Leave(link);
        if (joined.Count == 0)
        {
            // Said once when it happens (at start, or when the last interface went), not at every rescan.
            if (current.Count > 0 || !_warnedNoLinks)
            {
                foreach (var name in missing) MdnsLog.InterfaceMissing(_logger, name);
                MdnsLog.NoInterfaces(_logger, _options.Interfaces.Count > 0 ? $", among {string.Join(", ", _options.Interfaces)}" : "", _options.InterfaceRescanInterval.TotalSeconds);
                _warnedNoLinks = true;
            }
            return joined;
        }
        if (!started)
        {
            foreach (var name in missing) MdnsLog.InterfaceMissing(_logger, name);
        }
        MdnsLog.Links(_logger, string.Join(", ", joined.Select(l => $"{l} ({string.Join(" ", l.Addresses)})")));
        if (!started)
        {
            if (_options.Advertise) _responder.Start(joined);
            if (_options.Browse) _browser.Start(joined);
        }
        else
        {
            if (_options.Advertise) _responder.SetLinks(joined);
            if (_options.Browse) _browser.SetLinks(joined);
        }
        return joined;
    }

    private void Handle(MdnsReceived packet, IReadOnlyList<MdnsLink> links, List<MdnsSend> output)
    {
        MdnsLink? link = null;
        foreach (var l in links)
        {
            if (l.InterfaceIndex == packet.InterfaceIndex && l.Family == packet.Family)
            {
                link = l;
                break;
            }
        }
        if (link is null)
        {
            // Linux delivers a group joined by anyone on the host to every socket on the port (IP_MULTICAST_ALL):
            // what comes in on an interface we were not asked to run on is not ours to answer.
            Counters.ForeignInterface();
            return;
        }
        Counters.Received();
        var error = MdnsPacket.TryDecode(packet.Data, packet.Data.Length, out var message);
        if (error != MdnsPacketError.None)
        {
            Counters.Dropped(error);
            if (_logger.IsEnabled(LogLevel.Debug)) MdnsLog.Dropped(_logger, packet.Source.ToString(), link.ToString(), error);
            return;
        }
        if (_options.Advertise) _responder.Receive(message!, link, packet.Source, output);
        if (_options.Browse) _browser.Receive(message!, link, packet.Source, output);
    }

    private void Send(MdnsTransport transport, List<MdnsSend> output)
    {
        foreach (var send in output)
        {
            byte[] bytes;
            try
            {
                bytes = MdnsPacket.Encode(send.Message);
            }
            catch (Exception ex) when (ex is MeshException or ArgumentException)
            {
                // Ours to fix, but one bad message must not stop the others.
                MdnsLog.SendFailed(_logger, send.Link.ToString(), ex.Message);
                Counters.SendError();
                continue;
            }
            var error = transport.Send(bytes, send.Link, send.Destination);
            if (error is not null) MdnsLog.SendFailed(_logger, send.Link.ToString(), error);
        }
        output.Clear();
    }

    private async Task WaitAsync(ChannelReader<MdnsReceived> reader, TimeSpan wait, CancellationToken stoppingToken)
    {
        // A timer per wait, disposed with it: a waiting loop must not pile up pending delays.
        using var timeout = new CancellationTokenSource(wait, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stoppingToken);
        try
        {
            await reader.WaitToReadAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
