using System.Collections.Concurrent;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt;

/// <summary>
/// MQTT 5 Will Delay Interval (§3.1.3.2.2), which MQTTnet 5.2 ignores: it publishes the will as
/// soon as a connection ends without DISCONNECT. The will reaches us as a PUBLISH from the departed
/// client (InterceptingPublish with its id and session items); with a delay it is held back here
/// (not dispatched, not logged) and published after min(will delay, session expiry) through
/// <see cref="MqttServer.InjectApplicationMessage"/>, so it is appended to the log and delivered
/// then, unless a connection with the same client id is opened first (§3.1.2.5).
/// <para>
/// Recognising the will: MQTTnet hands every PUBLISH a client sends to InterceptingInboundPacket
/// before InterceptingPublish, one packet of a connection at a time; the will is the one publish from
/// a client with a delayed will that no inbound PUBLISH announced.
/// </para>
/// <para>
/// Pending wills are in memory: a node restart (or stop) drops them, unpublished. One per client id.
/// </para>
/// </summary>
public sealed class MqttWillDelay : IHostedService
{
    // Session items: the connection's will delay (seconds, already bounded by the session expiry),
    // and "the PUBLISH being intercepted came in from the client".
    private const string DelayItem = "edgestream.will.delay";
    // ~49.7 days: the longest a timer can wait. A longer will delay is cut to it.
    private const uint MaxDelaySeconds = uint.MaxValue / 1000 - 1;

    private readonly MqttServer _server;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    // The will delay of the latest CONNECT per client id, between ValidatingConnection and ClientConnected:
    // a resumed session keeps its old session items, so the new CONNECT's values are carried over here.
    private readonly ConcurrentDictionary<string, uint> _announced = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _connected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private volatile bool _stopped;

    private sealed class Pending(MqttWillDelay owner, string clientId, MqttApplicationMessage will)
    {
        public readonly string ClientId = clientId;
        public readonly MqttApplicationMessage Will = will;
        public ITimer? Timer;

        public void Fire() => _ = owner.ReleaseAsync(this);
    }

    public MqttWillDelay(MqttServer server, ILogger<MqttWillDelay> logger, TimeProvider? time = null)
    {
        _server = server;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Wills waiting for their delay.</summary>
    public int PendingCount => _pending.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopped = false;
        _server.ValidatingConnectionAsync += OnValidatingConnection;
        _server.ClientConnectedAsync += OnClientConnected;
        _server.ClientDisconnectedAsync += OnClientDisconnected;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopped = true;
        _server.ValidatingConnectionAsync -= OnValidatingConnection;
        _server.ClientConnectedAsync -= OnClientConnected;
        _server.ClientDisconnectedAsync -= OnClientDisconnected;
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.Timer?.Dispose();
                MqttWillLog.WillDropped(_logger, id);
            }
        }
        return Task.CompletedTask;
    }

    private Task OnValidatingConnection(ValidatingConnectionEventArgs e)
    {
        var id = e.ClientId;
        if (string.IsNullOrEmpty(id)) return Task.CompletedTask; // an assigned id is new: nothing pending under it
        // §3.1.3.2.2 with §3.1.2.11.2: the will is published when the delay has passed or the session
        // ends, whichever is first. With a session expiry of 0 that is when the connection ends.
        var delay = e.ProtocolVersion == MqttProtocolVersion.V500 ? Math.Min(e.WillDelayInterval, e.SessionExpiryInterval) : 0;
        if (delay > 0) _announced[id] = Math.Min(delay, MaxDelaySeconds);
        else _announced.TryRemove(id, out _);
        return Task.CompletedTask;
    }

    private Task OnClientConnected(ClientConnectedEventArgs e)
    {
        var id = e.ClientId;
        _connected.AddOrUpdate(id, 1, static (_, n) => n + 1);
        // §3.1.2.5: a new connection for the client id before the delay has passed: no will.
        if (_pending.TryRemove(id, out var pending))
        {
            pending.Timer?.Dispose();
            MqttWillLog.WillCancelled(_logger, id);
        }
        if (_announced.TryRemove(id, out var delay)) e.SessionItems[DelayItem] = delay;
        else e.SessionItems.Remove(DelayItem);
        return Task.CompletedTask;
    }

    private Task OnClientDisconnected(ClientDisconnectedEventArgs e)
    {
        // The will (if any) was handed to InterceptingPublish before this event.
        var id = e.ClientId;
        while (_connected.TryGetValue(id, out var n))
        {
            if (n <= 1 ? _connected.TryRemove(KeyValuePair.Create(id, n)) : _connected.TryUpdate(id, n - 1, n)) break;
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Called for a PUBLISH MQTTnet dispatches without an inbound PUBLISH packet behind it (the broker
    /// service tells: its inbound hook marks every PUBLISH packet), i.e. a departed client's will: true
    /// when it is one to hold back (then
    /// <see cref="InterceptingPublishEventArgs.ProcessPublish"/> is false and nothing else may be done with it).
    /// </summary>
    public bool TryDefer(InterceptingPublishEventArgs e)
    {
        var items = e.SessionItems;
        if (items is null || items[DelayItem] is not uint delay) return false;
        var will = e.ApplicationMessage;
        if (will is null || _stopped) return false;
        // One will per connection: the next connection announces its own.
        items.Remove(DelayItem);
        e.ProcessPublish = false;

        var id = e.ClientId;
        var pending = new Pending(this, id, will);
        if (_pending.TryGetValue(id, out var older) && _pending.TryRemove(KeyValuePair.Create(id, older))) older.Timer?.Dispose();
        _pending[id] = pending;
        pending.Timer = _time.CreateTimer(static state => ((Pending)state!).Fire(), pending, TimeSpan.FromSeconds(delay), Timeout.InfiniteTimeSpan);
        MqttWillLog.WillDelayed(_logger, id, will.Topic, delay);
        return true;
    }

    private async Task ReleaseAsync(Pending pending)
    {
        var id = pending.ClientId;
        if (!_pending.TryRemove(KeyValuePair.Create(id, pending))) return; // cancelled meanwhile
        pending.Timer?.Dispose();
        // A connection that came in while the old one was still ending cancelled nothing; it is still open.
        if (_connected.ContainsKey(id) || _stopped)
        {
            MqttWillLog.WillCancelled(_logger, id);
            return;
        }
        try
        {
            // As if from the departed client (no-local subscriptions see its id), with session items of
            // its own: no delay there, so it is not held back again; appended to the log like any publish.
            await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(pending.Will)
            {
                SenderClientId = id,
                CustomSessionItems = new ConcurrentDictionary<object, object>(),
            }).ConfigureAwait(false);
            MqttWillLog.WillPublished(_logger, id, pending.Will.Topic);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MqttWillLog.WillFailed(_logger, id, ex.Message);
        }
    }
}

internal static partial class MqttWillLog
{
    [LoggerMessage(EventId = 4200, Level = LogLevel.Debug, Message = "MQTT: will of {ClientId} to '{MqttTopic}' held back for its will delay ({Seconds} s)")]
    public static partial void WillDelayed(ILogger logger, string clientId, string mqttTopic, uint seconds);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Debug, Message = "MQTT: delayed will of {ClientId} cancelled: the client connected again")]
    public static partial void WillCancelled(ILogger logger, string clientId);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Debug, Message = "MQTT: delayed will of {ClientId} to '{MqttTopic}' published")]
    public static partial void WillPublished(ILogger logger, string clientId, string mqttTopic);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Warning, Message = "MQTT: delayed will of {ClientId} could not be published: {Reason}")]
    public static partial void WillFailed(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 4204, Level = LogLevel.Information, Message = "MQTT: delayed will of {ClientId} dropped: the node is stopping (pending wills are not kept across restarts)")]
    public static partial void WillDropped(ILogger logger, string clientId);
}
