using System.Diagnostics;
using EdgeStream.Metadata;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Sending;

/// <summary>
/// The uplink sender: forwards every selected local topic partition to the parent over ONE
/// bidirectional gRPC <c>Forward</c> stream per connection, all partitions multiplexed on it.
/// <list type="bullet">
/// <item>Per partition a cursor (next local offset to send) lives in meta.db; it advances only once
/// the parent acknowledged (OK or DUPLICATE) every frame before it, and is saved every
/// <see cref="UplinkSenderOptions.CursorFlushInterval"/> and at shutdown. After a crash or a broken
/// stream, sending starts again from the cursor: the parent drops what it already has.</item>
/// <item>At most <see cref="UplinkSenderOptions.Window"/> frames are in flight; nothing is read from
/// the log beyond what the window and a bounded read-ahead need, whatever the backlog. Unacked
/// frames are not kept: a re-send reads the log again.</item>
/// <item>Frames start at 1 MiB and grow towards 4 MiB while acks are fast (halving down to 64 KiB when they are slow) (<see cref="AdaptiveFrameSize"/>);
/// an optional token bucket caps the bytes per second.</item>
/// <item>The next frame comes from the ready partition of the highest <c>uplink.priority</c>,
/// round-robin among equals.</item>
/// <item>Reconnects use a Polly retry (exponential backoff with jitter, never giving up); parents fail
/// over in order and the preferred one is tried again periodically.</item>
/// </list>
/// Nothing in the produce path waits on this service.
/// </summary>
/// <remarks>
/// Split by concern: this file holds the service's state and its start, stop and housekeeping;
/// <c>UplinkForwarder.Connections.cs</c> the reconnect loop, one connection's life and failover;
/// <c>UplinkForwarder.Send.cs</c> the send loop and the choice of the next frame;
/// <c>UplinkForwarder.Receive.cs</c> the replies. Types of their own: <see cref="IParentSelector"/>
/// (which parent), <see cref="UplinkPartitionSet"/> (which partitions), <see cref="UplinkCursors"/>
/// (meta.db), <see cref="PartitionFrameReader"/> (log to frames), <see cref="ReadAheadBudget"/>,
/// <see cref="ParentChannels"/>.
/// </remarks>
public sealed partial class UplinkForwarder : BackgroundService
{
    /// <summary>meta.db collection of the cursors: key "topic/partition", number = next local offset, text = topic id.</summary>
    public const string CursorCollection = UplinkCursors.CollectionName;

    private static readonly double TicksToSeconds = 1.0 / Stopwatch.Frequency;

    private readonly UplinkSenderOptions _options;
    private readonly Func<TopicCatalog?> _catalog;
    private readonly UplinkStatus _status;
    private readonly ILogger _logger;
    private readonly UplinkCursors _cursors;
    private readonly PartitionFrameReader _reader;
    private readonly ParentChannels _channels;

    // Guards everything below: the partition set and its partition states, the read-ahead, the
    // in-flight queue, the frame size, the parent selector, the token bucket.
    private readonly object _lock = new();
    private readonly UplinkPartitionSet _partitions;
    private readonly ReadAheadBudget _readAhead;
    private readonly PriorityScheduler<PartitionState> _scheduler = new();
    private readonly AdaptiveFrameSize _frameSize;
    private readonly IParentSelector _selector;
    private readonly TokenBucket? _bucket;
    private readonly Func<PartitionState, int> _priorityOf;
    private readonly Func<PartitionState, bool> _isReady;
    private ParentConnection? _connection;
    private CancellationTokenSource? _connectionStop;
    private UplinkParent? _followed;
    private TaskCompletionSource _parentChanged = NewSignal();
    private ulong _nextFrameId;
    private TaskCompletionSource _wake = NewSignal();

    /// <param name="parentSelector">
    /// The failover policy over <see cref="UplinkSenderOptions.Parents"/>; default a <see cref="ParentSelector"/>
    /// built from <see cref="UplinkSenderOptions.FailoverAfter"/> and <see cref="UplinkSenderOptions.PreferredRetryInterval"/>.
    /// </param>
    public UplinkForwarder(UplinkSenderOptions options, Func<TopicCatalog?> catalog, MetadataStore metadata, UplinkStatus status, ILogger<UplinkForwarder> logger,
        IParentSelector? parentSelector = null)
    {
        options.Validate();
        _options = options;
        _catalog = catalog;
        _status = status;
        _logger = logger;
        _cursors = new UplinkCursors(metadata, logger);
        _reader = new PartitionFrameReader(options.NodeId, relayOrigins: options.Role == "gateway", logger);
        _channels = new ParentChannels(options);
        _readAhead = new ReadAheadBudget(options.ReadAheadBytes);
        _partitions = new UplinkPartitionSet(_lock, options.Topics, _cursors, _readAhead, logger);
        // A capped link starts small as before: a first frame far above the cap would be paid off in one long stall.
        _frameSize = new AdaptiveFrameSize(options.MinFrameBytes, options.MaxFrameBytes,
            options.RateBytesPerSecond > 0 ? options.MinFrameBytes : options.InitialFrameBytes);
        _selector = parentSelector ?? new ParentSelector(Math.Max(1, options.Parents.Count), options.FailoverAfter, options.PreferredRetryInterval, Now());
        // Burst of one second's worth: a cap holds from the first second after a reconnect, not only
        // after a few MiB went out at link speed. A frame larger than the burst is paid off afterwards.
        _bucket = options.RateBytesPerSecond > 0 ? new TokenBucket(options.RateBytesPerSecond, options.RateBytesPerSecond, Now()) : null;
        _priorityOf = static p => p.Priority;
        _isReady = p => p.IsReady(Now());
    }

    /// <summary>The counters this service updates.</summary>
    public UplinkStatus Status => _status;

    /// <summary>
    /// With <see cref="UplinkSenderOptions.FollowMesh"/>: the parent to forward to from now on, null for none
    /// (the data stays local). A change closes the current stream and connects to the new parent at once,
    /// without a reconnect backoff; what was in flight is sent again from the cursors (the cloud's per-origin
    /// de-duplication drops what the old parent already relayed). Thread-safe.
    /// </summary>
    public void FollowParent(UplinkParent? parent)
    {
        if (!_options.FollowMesh) throw new InvalidOperationException("this sender forwards to its --parent list, not the mesh's choice");
        CancellationTokenSource? stop;
        lock (_lock)
        {
            if (_followed == parent) return;
            _followed = parent;
            stop = _connectionStop;
        }
        StopConnection(stop);
        Interlocked.Exchange(ref _parentChanged, NewSignal()).TrySetResult();
    }

    /// <summary>
    /// Something other than our own attempts (the mesh's membership) knows <paramref name="parent"/> of
    /// <see cref="UplinkSenderOptions.Parents"/> is down: when it is the parent in use, move on to the next
    /// now, closing the stream, instead of after the reconnect attempts. Returns true when the choice changed.
    /// </summary>
    public bool ParentDown(UplinkParent parent)
    {
        var index = -1;
        for (var i = 0; i < _options.Parents.Count; i++)
            if (_options.Parents[i] == parent) index = i;
        if (index < 0) return false;
        CancellationTokenSource? stop;
        string next;
        lock (_lock)
        {
            if (!_selector.OnParentDown(index, Now())) return false;
            stop = _connection?.Index == index ? _connectionStop : null;
            next = _options.Parents[_selector.Current].ToString();
        }
        UplinkSenderLog.ParentDown(_logger, parent.ToString(), next);
        StopConnection(stop);
        return true;
    }

    private static void StopConnection(CancellationTokenSource? stop)
    {
        try { stop?.Cancel(); }
        catch (ObjectDisposedException) { /* that connection already ended */ }
    }

    private static double Now() => Stopwatch.GetTimestamp() * TicksToSeconds;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Wake() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        UplinkSenderLog.Starting(_logger, _options.FollowMesh ? "the parent the mesh chooses" : string.Join(", ", _options.Parents), _options.Role, _options.NodeId, _options.Window,
            ByteSize.Format(_options.MaxFrameBytes), ByteSize.Format(_options.ReadAheadBytes), _options.RateBytesPerSecond > 0 ? _options.RateBytesPerSecond + " B/s" : "unlimited");
        TopicCatalog? catalog;
        try
        {
            while ((catalog = _catalog()) is null)
                await Task.Delay(50, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        _cursors.Load();
        if (_partitions.Refresh(catalog)) Wake();

        using var housekeepingStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var housekeeping = HousekeepingAsync(housekeepingStop.Token);
        try
        {
            if (_options.FollowMesh) await FollowParentsAsync(stoppingToken).ConfigureAwait(false);
            else await RunConnectionsAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await housekeepingStop.CancelAsync().ConfigureAwait(false);
            try { await housekeeping.ConfigureAwait(false); } catch (OperationCanceledException) { }
            _partitions.SaveCursors();
            _channels.Dispose();
            UplinkSenderLog.Stopped(_logger, _status.FramesAcked);
        }
    }

    /// <summary>Saves the cursors every flush interval; polls the catalog for topics and publishes the backlog every poll interval.</summary>
    private async Task HousekeepingAsync(CancellationToken ct)
    {
        var nextPoll = Now() + _options.TopicPollInterval.TotalSeconds;
        while (true)
        {
            await Task.Delay(_options.CursorFlushInterval, ct).ConfigureAwait(false);
            _partitions.SaveCursors();
            var now = Now();
            if (now >= nextPoll)
            {
                nextPoll = now + _options.TopicPollInterval.TotalSeconds;
                if (_catalog() is { } catalog && _partitions.Refresh(catalog)) Wake();
                _partitions.PublishBacklog(_status);
            }
        }
    }
}
