using System.Diagnostics;
using System.Net.Http;
using EdgeStream.Records;
using EdgeStream.Metadata;
using EdgeStream.Storage;
using EdgeStream.Uplink.Grpc;
using EdgeStream.Uplink.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace EdgeStream.Uplink.Sending;

/// <summary>The parent refused a frame as INVALID, or broke the protocol (a reply out of order).</summary>
public sealed class UplinkRejectedException : EdgeStreamException
{
    public UplinkRejectedException(string message) : base(message) { }
}

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
public sealed class UplinkForwarder : BackgroundService
{
    /// <summary>meta.db collection of the cursors: key "topic/partition", number = next local offset, text = topic id.</summary>
    public const string CursorCollection = "uplink_cursors";

    private static readonly double TicksToSeconds = 1.0 / Stopwatch.Frequency;

    private readonly UplinkSenderOptions _options;
    private readonly Func<TopicCatalog?> _catalog;
    private readonly MetadataStore _metadata;
    private readonly UplinkStatus _status;
    private readonly ILogger _logger;

    // Guards everything below: partition states, the in-flight queue, the frame size, the selector.
    private readonly object _lock = new();
    private readonly List<PartitionState> _partitions = [];
    private readonly Dictionary<string, PartitionState> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Guid> _topicIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _badTargets = new(StringComparer.Ordinal);
    private readonly PriorityScheduler<PartitionState> _scheduler = new();
    private readonly AdaptiveFrameSize _frameSize;
    private readonly ParentSelector _selector;
    private readonly TokenBucket? _bucket;
    private readonly GrpcChannel?[] _channels;
    private readonly Func<PartitionState, int> _priorityOf;
    private readonly Func<PartitionState, bool> _isReady;
    private Dictionary<string, MetadataEntry> _savedCursors = new(StringComparer.Ordinal);
    private Connection? _connection;
    private long _readAheadBytes;
    private ulong _nextFrameId;
    private TaskCompletionSource _wake = NewSignal();

    public UplinkForwarder(UplinkSenderOptions options, Func<TopicCatalog?> catalog, MetadataStore metadata, UplinkStatus status, ILogger<UplinkForwarder> logger)
    {
        options.Validate();
        _options = options;
        _catalog = catalog;
        _metadata = metadata;
        _status = status;
        _logger = logger;
        // A capped link starts small as before: a first frame far above the cap would be paid off in one long stall.
        _frameSize = new AdaptiveFrameSize(options.MinFrameBytes, options.MaxFrameBytes,
            options.RateBytesPerSecond > 0 ? options.MinFrameBytes : options.InitialFrameBytes);
        _selector = new ParentSelector(options.Parents.Count, options.FailoverAfter, options.PreferredRetryInterval, Now());
        // Burst of one second's worth: a cap holds from the first second after a reconnect, not only
        // after a few MiB went out at link speed. A frame larger than the burst is paid off afterwards.
        _bucket = options.RateBytesPerSecond > 0 ? new TokenBucket(options.RateBytesPerSecond, options.RateBytesPerSecond, Now()) : null;
        _channels = new GrpcChannel?[options.Parents.Count];
        _priorityOf = static p => p.Priority;
        _isReady = p => p.IsReady(Now());
    }

    /// <summary>The counters this service updates.</summary>
    public UplinkStatus Status => _status;

    private static double Now() => Stopwatch.GetTimestamp() * TicksToSeconds;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Wake() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        UplinkSenderLog.Starting(_logger, string.Join(", ", _options.Parents), _options.Role, _options.NodeId, _options.Window,
            _options.RateBytesPerSecond > 0 ? _options.RateBytesPerSecond + " B/s" : "unlimited");
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

        var cursors = _metadata.Collection(CursorCollection);
        foreach (var entry in cursors.List()) _savedCursors[entry.Key] = entry;
        RefreshTopics(catalog, cursors);

        using var housekeepingStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var housekeeping = HousekeepingAsync(cursors, housekeepingStop.Token);
        try
        {
            await RunConnectionsAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await housekeepingStop.CancelAsync().ConfigureAwait(false);
            try { await housekeeping.ConfigureAwait(false); } catch (OperationCanceledException) { }
            SaveCursors(cursors);
            foreach (var channel in _channels) channel?.Dispose();
            UplinkSenderLog.Stopped(_logger, _status.FramesAcked);
        }
    }

    // ---- connections ------------------------------------------------------------------------

    /// <summary>
    /// How a connection ended. A class, not an enum: Polly's pipeline over an enum result pulls in
    /// Enum.GetValues(Type), which NativeAOT refuses (IL3050).
    /// </summary>
    private sealed class ConnectionEnd
    {
        public static readonly ConnectionEnd Stopped = new(), Broken = new(), Probe = new();

        private ConnectionEnd() { }
    }

    private async Task RunConnectionsAsync(CancellationToken stoppingToken)
    {
        var pipeline = new ResiliencePipelineBuilder<ConnectionEnd>()
            .AddRetry(new RetryStrategyOptions<ConnectionEnd>
            {
                // Never give up: the node keeps storing locally and forwards once a parent is back.
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.InitialBackoff,
                MaxDelay = _options.MaxBackoff,
                ShouldHandle = new PredicateBuilder<ConnectionEnd>().Handle<Exception>(_ => !stoppingToken.IsCancellationRequested),
                OnRetry = args =>
                {
                    OnAttemptFailed(args.Outcome.Exception?.Message ?? "stream ended", args.AttemptNumber + 1, args.RetryDelay);
                    return default;
                },
            })
            .Build();

        while (!stoppingToken.IsCancellationRequested)
        {
            // Polly counts attempts per ExecuteAsync: a connection that worked for a while returns
            // Broken instead of throwing, so the backoff starts small again after it.
            var end = await pipeline.ExecuteAsync(static async ValueTask<ConnectionEnd> (self, ct) =>
            {
                int index;
                lock (self._lock) index = self._selector.Current;
                return await self.RunConnectionAsync(index, ct).ConfigureAwait(false);
            }, this, stoppingToken).ConfigureAwait(false);

            if (end == ConnectionEnd.Stopped) return;
            if (end == ConnectionEnd.Probe)
            {
                lock (_lock) _selector.BeginProbe(Now());
            }
            else if (end == ConnectionEnd.Broken)
            {
                OnAttemptFailed("the stream broke", 1, _options.InitialBackoff);
                await Task.Delay(_options.InitialBackoff, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private void OnAttemptFailed(string reason, int attempt, TimeSpan delay)
    {
        _status.Reconnect();
        _status.SetConnected(false);
        string from, to;
        int failures;
        bool changed;
        lock (_lock)
        {
            from = _options.Parents[_selector.Current].ToString();
            failures = _selector.ConsecutiveFailures + 1;
            changed = _selector.OnFailure(Now());
            to = _options.Parents[_selector.Current].ToString();
        }
        UplinkSenderLog.Reconnecting(_logger, from, reason, attempt, (long)delay.TotalMilliseconds);
        if (changed) UplinkSenderLog.FailingOver(_logger, from, to, failures);
    }

    private GrpcChannel ChannelFor(int index)
    {
        if (_channels[index] is { } existing) return existing;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            // HTTP/2 pings find a dead path (a pulled cable, a NAT that forgot us) without waiting for TCP.
            KeepAlivePingDelay = _options.KeepAlivePingDelay,
            KeepAlivePingTimeout = _options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        var channel = GrpcChannel.ForAddress(_options.Parents[index].Address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = 2 * _options.MaxFrameBytes + 1024 * 1024,
            MaxReceiveMessageSize = 1024 * 1024,
        });
        _channels[index] = channel;
        return channel;
    }

    private async Task<ConnectionEnd> RunConnectionAsync(int parentIndex, CancellationToken stoppingToken)
    {
        var parent = _options.Parents[parentIndex].ToString();
        _status.SetParent(parent, connected: false);
        UplinkSenderLog.Connecting(_logger, parent);
        var client = new Grpc.Uplink.UplinkClient(ChannelFor(parentIndex));
        var headers = new global::Grpc.Core.Metadata { { "es-node-id", _options.NodeId }, { "es-role", _options.Role } };

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var connection = new Connection(parent, parentIndex, Now());
        lock (_lock)
        {
            // Whatever was in flight on the last connection is sent again from the cursors.
            foreach (var p in _partitions) p.Rewind(this);
            _frameSize.Reset();
            _connection = connection;
        }
        try
        {
            using var call = client.Forward(headers, cancellationToken: cts.Token);
            var receive = ReceiveLoopAsync(call, connection, cts.Token);
            var send = SendLoopAsync(call, connection, cts.Token);
            var watchdog = WatchdogAsync(connection, cts.Token);
            var first = await Task.WhenAny(receive, send, watchdog).ConfigureAwait(false);
            if (first == send && send.IsCompletedSuccessfully)
            {
                // Drained for a probe of the preferred parent: close our side politely.
                try { await call.RequestStream.CompleteAsync().ConfigureAwait(false); } catch (Exception) { /* closing anyway */ }
            }
            await cts.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(Quiet(receive), Quiet(send), Quiet(watchdog)).ConfigureAwait(false);
            if (stoppingToken.IsCancellationRequested) return ConnectionEnd.Stopped;
            if (first == send && send.IsCompletedSuccessfully) return ConnectionEnd.Probe;
            var error = first.Exception?.GetBaseException();
            if (error is UplinkRejectedException || !connection.Established)
                throw error ?? new IOException("the parent closed the stream");
            return ConnectionEnd.Broken;
        }
        finally
        {
            lock (_lock)
            {
                if (_connection == connection) _connection = null;
            }
            _status.SetConnected(false);
        }
    }

    private static async Task Quiet(Task task)
    {
        try { await task.ConfigureAwait(false); }
        catch (Exception) { /* the first failure is reported; the others follow from the cancellation */ }
    }

    private void MarkEstablished(Connection connection)
    {
        if (connection.Established) return;
        connection.Established = true;
        lock (_lock) _selector.OnConnected(Now());
        _status.SetParent(connection.Parent, connected: true);
        UplinkSenderLog.Connected(_logger, connection.Parent);
    }

    /// <summary>Catches a parent that stopped answering, and marks an idle but healthy stream as established.</summary>
    private async Task WatchdogAsync(Connection connection, CancellationToken ct)
    {
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            var now = Now();
            double oldest;
            lock (_lock) oldest = connection.InFlight.TryPeek(out var head) ? head.SentAt : now;
            if (now - oldest > _options.AckTimeout.TotalSeconds)
                throw new TimeoutException($"no reply from {connection.Parent} for {_options.AckTimeout.TotalSeconds:0} s");
            if (!connection.Established && now - connection.StartedAt >= 10) MarkEstablished(connection);
        }
    }

    private async Task ReceiveLoopAsync(AsyncDuplexStreamingCall<UplinkRequest, UplinkReply> call, Connection connection, CancellationToken ct)
    {
        var stream = call.ResponseStream;
        while (await stream.MoveNext(ct).ConfigureAwait(false))
        {
            var reply = stream.Current;
            InFlight frame;
            var now = Now();
            lock (_lock)
            {
                if (!connection.InFlight.TryDequeue(out frame))
                    throw new UplinkRejectedException($"{connection.Parent} answered frame {reply.FrameId}, which was not sent");
            }
            if (reply.FrameId != frame.FrameId)
                throw new UplinkRejectedException($"{connection.Parent} answered frame {reply.FrameId}, expected {frame.FrameId} (replies must come in order)");
            MarkEstablished(connection);
            var p = frame.Partition;
            switch (reply.Code)
            {
                case ReplyCode.Ok:
                case ReplyCode.Duplicate:
                    lock (_lock)
                    {
                        // Replies come in order and a refused frame bumps the generation, so an ack of the
                        // current generation means every earlier frame of it was acked too.
                        if (frame.Generation == p.Generation && !p.Removed && frame.LocalEnd > p.Acked)
                        {
                            p.Acked = frame.LocalEnd;
                            p.Dirty = true;
                        }
                        _frameSize.OnAck(TimeSpan.FromSeconds(now - frame.SentAt), connection.InFlight.Count);
                    }
                    _status.Acked(frame.Records, reply.Code == ReplyCode.Duplicate);
                    break;
                case ReplyCode.StorageFull:
                case ReplyCode.Unavailable:
                    lock (_lock)
                    {
                        if (frame.Generation == p.Generation)
                        {
                            p.Rewind(this);
                            p.RetryAt = now + _options.RetryFrameDelay.TotalSeconds;
                        }
                    }
                    _status.Retry();
                    UplinkSenderLog.RetryLater(_logger, connection.Parent, reply.Code.ToString(), p.Topic, p.Partition, reply.Message,
                        (long)_options.RetryFrameDelay.TotalMilliseconds);
                    break;
                case ReplyCode.Rejected:
                    // The parent can never store this frame as it is: hold this partition back (its data
                    // stays here, nothing is skipped) while every other partition keeps flowing.
                    lock (_lock)
                    {
                        if (frame.Generation == p.Generation)
                        {
                            p.Rewind(this);
                            p.RetryAt = now + _options.RejectedRetryDelay.TotalSeconds;
                        }
                    }
                    _status.Retry();
                    UplinkSenderLog.Rejected(_logger, connection.Parent, p.Topic, p.Partition, reply.Message, (long)_options.RejectedRetryDelay.TotalSeconds);
                    break;
                default:
                    UplinkSenderLog.Invalid(_logger, connection.Parent, frame.FrameId, p.Topic, p.Partition, reply.Message);
                    throw new UplinkRejectedException($"{connection.Parent} refused frame {frame.FrameId} of {p.Topic}-{p.Partition}: {reply.Message}");
            }
            Wake();
        }
        throw new IOException($"{connection.Parent} closed the stream");
    }

    private async Task SendLoopAsync(AsyncDuplexStreamingCall<UplinkRequest, UplinkReply> call, Connection connection, CancellationToken ct)
    {
        var waits = new List<Task>();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var signal = Volatile.Read(ref _wake).Task;
            var now = Now();
            bool probe;
            int inFlight;
            lock (_lock)
            {
                probe = _selector.ShouldProbePreferred(now);
                inFlight = connection.InFlight.Count;
            }
            if (probe)
            {
                await DrainAsync(connection, ct).ConfigureAwait(false);
                var preferred = _options.Parents[0].ToString();
                UplinkSenderLog.ProbingPreferred(_logger, preferred, connection.Parent, (long)(now - connection.StartedAt));
                return;
            }
            if (inFlight >= _options.Window)
            {
                await WaitAsync(signal, TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                continue;
            }

            var next = NextFrame(now);
            if (next is not { } item)
            {
                await WaitForDataAsync(signal, waits, now, ct).ConfigureAwait(false);
                continue;
            }
            var (p, frame, generation) = item;
            if (_bucket is not null)
            {
                TimeSpan delay;
                lock (_lock) delay = _bucket.Take(frame.Payload.Length, now);
                if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
            }
            ulong id;
            lock (_lock)
            {
                // Refused (rewound) meanwhile: this frame will be read again from the cursor.
                if (generation != p.Generation || p.Removed) continue;
                id = ++_nextFrameId;
                connection.InFlight.Enqueue(new InFlight(id, p, generation, frame.LocalEnd, frame.Records, Now()));
            }
            await call.RequestStream.WriteAsync(new UplinkRequest
            {
                FrameId = id,
                Payload = UnsafeByteOperations.UnsafeWrap(frame.Payload),
                RawLength = (uint)frame.RawLength,
            }, ct).ConfigureAwait(false);
            _status.Sent(frame.Records, frame.Payload.Length);
        }
    }

    private async Task DrainAsync(Connection connection, CancellationToken ct)
    {
        var deadline = Now() + 5;
        while (Now() < deadline)
        {
            var signal = Volatile.Read(ref _wake).Task;
            lock (_lock)
            {
                if (connection.InFlight.Count == 0) return;
            }
            await WaitAsync(signal, TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
        }
    }

    private static async Task WaitAsync(Task signal, TimeSpan timeout, CancellationToken ct)
    {
        try { await signal.WaitAsync(timeout, ct).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }

    /// <summary>Nothing ready: wait for new data in any caught-up partition, an ack, a retry time, or the next topic poll.</summary>
    private async Task WaitForDataAsync(Task signal, List<Task> waits, double now, CancellationToken ct)
    {
        waits.Clear();
        waits.Add(signal);
        var timeout = 1.0;
        lock (_lock)
        {
            foreach (var p in _partitions)
            {
                if (p.Removed) continue;
                if (p.RetryAt > now) timeout = Math.Min(timeout, p.RetryAt - now);
                else if (p.Pending.Count == 0) waits.Add(p.Log.WhenDurableAbove(p.SendPosition));
            }
        }
        try
        {
            await Task.WhenAny(waits).WaitAsync(TimeSpan.FromSeconds(Math.Max(0.01, timeout)), ct).ConfigureAwait(false);
        }
        catch (TimeoutException) { }
    }

    // ---- frames -------------------------------------------------------------------------------

    /// <summary>The next frame to send: from a partition's read-ahead, or read now from the log.</summary>
    private (PartitionState, PendingFrame, int)? NextFrame(double now)
    {
        for (var attempt = 0; attempt < 16; attempt++)
        {
            PartitionState? p;
            long from;
            int generation, target;
            lock (_lock)
            {
                p = _scheduler.Pick(_partitions, _priorityOf, _isReady);
                if (p is null) return null;
                if (p.Pending.TryDequeue(out var ready))
                {
                    _readAheadBytes -= ready.Payload.Length;
                    return (p, ready, p.Generation);
                }
                if (!p.CheckRange(this)) continue;
                from = p.SendPosition;
                generation = p.Generation;
                target = _frameSize.Target;
            }
            // Read and encode outside the lock: acks keep flowing meanwhile.
            var built = ReadFrames(p, from, target, now, out var next);
            lock (_lock)
            {
                if (generation != p.Generation || from != p.SendPosition || p.Removed) continue; // rewound meanwhile
                if (built is null)
                {
                    p.RetryAt = now + 1;
                    continue;
                }
                p.SendPosition = next;
                if (built.Count == 0)
                {
                    // Only control batches: nothing to send; move the cursor too when nothing is in flight.
                    if (p.InFlightFrames(_connection) == 0 && next > p.Acked) { p.Acked = next; p.Dirty = true; }
                    continue;
                }
                var first = built[0];
                for (var i = 1; i < built.Count; i++)
                {
                    if (_readAheadBytes + built[i].Payload.Length > _options.ReadAheadBytes)
                    {
                        // Over the read-ahead budget: forget the rest, it is read again when its turn comes.
                        p.SendPosition = built[i].LocalStart;
                        break;
                    }
                    _readAheadBytes += built[i].Payload.Length;
                    p.Pending.Enqueue(built[i]);
                }
                return (p, first, generation);
            }
        }
        return null;
    }

    /// <summary>Reads about <paramref name="target"/> bytes at <paramref name="from"/> and encodes them as frames; null when the read failed.</summary>
    private List<PendingFrame>? ReadFrames(PartitionState p, long from, int target, double now, out long next)
    {
        next = from;
        try
        {
            using var read = p.Log.Read(from, target);
            if (read.IsEmpty) return [];
            // Only what is on disk goes up (matters under --fsync os): an offset forwarded and then lost
            // to a power cut would be assigned again here, and the parent would take the new records
            // at that offset for duplicates.
            var memory = DurablePart(read.Memory, p.Log.DurableOffset);
            if (memory.IsEmpty) return [];
            var built = new List<BuiltFrame>();
            var source = new FrameSource(_options.NodeId, p.Topic, p.Partition, p.PartitionCount, p.TargetTopic, _options.Role == "gateway");
            next = UplinkFrameBuilder.Build(memory, from, source, target, built);
            if (next == from && built.Count == 0) return null; // no whole batch: do not spin on it
            var frames = new List<PendingFrame>(built.Count);
            foreach (var b in built)
            {
                // Encode before the read buffer goes back to the pool: records slice it.
                var payload = UplinkFrameCodec.Encode(b.Frame, b.EstimatedBytes + b.Frame.Records.Count * 8 + 1024, out var raw);
                frames.Add(new PendingFrame(payload, raw, b.Frame.Records.Count, b.LocalStart, b.LocalEnd));
            }
            return frames;
        }
        catch (OffsetOutOfRangeException)
        {
            // Deleted under us by retention: the range check on the next pick moves past it.
            return [];
        }
        catch (Exception ex) when (ex is EdgeStreamException or IOException or ObjectDisposedException or InvalidUplinkFrameException)
        {
            UplinkSenderLog.ReadFailed(_logger, p.Topic, p.Partition, from, ex.Message);
            return null;
        }
    }

    /// <summary>The whole batches of <paramref name="batches"/> that end at or below <paramref name="durable"/>.</summary>
    private static ReadOnlyMemory<byte> DurablePart(ReadOnlyMemory<byte> batches, long durable)
    {
        var length = 0;
        while (batches.Length - length >= RecordBatchHeader.Size && RecordBatchHeader.TryRead(batches.Span[length..], out var h)
               && h.TotalSize <= batches.Length - length && h.BaseOffset + h.LastOffsetDelta < durable)
            length += h.TotalSize;
        return length == batches.Length ? batches : batches[..length];
    }

    // ---- topics and cursors -------------------------------------------------------------------

    private async Task HousekeepingAsync(MetadataCollection cursors, CancellationToken ct)
    {
        var nextPoll = Now() + _options.TopicPollInterval.TotalSeconds;
        while (true)
        {
            await Task.Delay(_options.CursorFlushInterval, ct).ConfigureAwait(false);
            SaveCursors(cursors);
            var now = Now();
            if (now >= nextPoll)
            {
                nextPoll = now + _options.TopicPollInterval.TotalSeconds;
                if (_catalog() is { } catalog) RefreshTopics(catalog, cursors);
                PublishBacklog();
            }
        }
    }

    private void SaveCursors(MetadataCollection cursors)
    {
        var dirty = new List<(string Key, long Number, string? Text)>();
        lock (_lock)
        {
            foreach (var p in _partitions)
            {
                if (!p.Dirty || p.Removed) continue;
                dirty.Add((p.CursorKey, p.Acked, p.TopicId));
                p.Dirty = false;
            }
        }
        if (dirty.Count == 0) return;
        try
        {
            cursors.PutMany(dirty);
        }
        catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or IOException)
        {
            // Not saved: the next flush tries again (a re-send after a crash is harmless anyway).
            lock (_lock)
            {
                foreach (var (key, _, _) in dirty)
                {
                    if (_byKey.TryGetValue(key, out var p)) p.Dirty = true;
                }
            }
            UplinkSenderLog.CursorSaveFailed(_logger, ex.Message);
        }
    }

    private void PublishBacklog()
    {
        lock (_lock)
        {
            var backlog = new PartitionBacklog[_partitions.Count];
            for (var i = 0; i < backlog.Length; i++)
            {
                var p = _partitions[i];
                backlog[i] = new PartitionBacklog(p.Topic, p.Partition, p.Acked, p.Log.HighWatermark);
            }
            _status.SetBacklog(backlog);
        }
    }

    /// <summary>Picks up new topics and partitions, and drops deleted ones (their cursors too).</summary>
    private void RefreshTopics(TopicCatalog catalog, MetadataCollection cursors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var added = false;
        List<string>? deletedCursors = null;
        foreach (var topic in catalog.Topics)
        {
            var name = topic.Name;
            if (!_options.Topics.Includes(name)) continue;
            var target = _options.Topics.TargetOf(name);
            if (!LogManager.IsValidTopicName(target))
            {
                if (_badTargets.Add(name)) UplinkSenderLog.BadTarget(_logger, name, target);
                continue;
            }
            seen.Add(name);
            var id = catalog.TopicId(name);
            lock (_lock)
            {
                if (_topicIds.TryGetValue(name, out var known) && known != id)
                {
                    // Deleted and created again between two polls: a new log, new cursors.
                    RemoveTopic(name, deletedCursors ??= []);
                }
                _topicIds[name] = id;
                var partitions = topic.Partitions;
                var newTopic = true;
                for (var i = 0; i < partitions.Count; i++)
                {
                    var key = name + "/" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    if (_byKey.TryGetValue(key, out var existing))
                    {
                        existing.PartitionCount = partitions.Count;
                        newTopic = false;
                        continue;
                    }
                    var state = new PartitionState(topic, partitions[i], key, target, id.ToString("N"));
                    state.Acked = StartOffset(state);
                    state.SendPosition = state.Acked;
                    _partitions.Add(state);
                    _byKey[key] = state;
                    added = true;
                }
                if (newTopic && partitions.Count > 0)
                    UplinkSenderLog.Forwarding(_logger, name, target, partitions.Count, TopicConfigKeys.UplinkPriorityOf(topic.Config));
            }
        }
        lock (_lock)
        {
            foreach (var name in new List<string>(_topicIds.Keys))
            {
                if (!seen.Contains(name)) RemoveTopic(name, deletedCursors ??= []);
            }
        }
        if (deletedCursors is { Count: > 0 })
        {
            try { cursors.DeleteMany(deletedCursors); }
            catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or IOException) { UplinkSenderLog.CursorSaveFailed(_logger, ex.Message); }
        }
        if (added) Wake();
    }

    private void RemoveTopic(string name, List<string> deletedCursors)
    {
        _topicIds.Remove(name);
        for (var i = _partitions.Count - 1; i >= 0; i--)
        {
            var p = _partitions[i];
            if (p.Topic != name) continue;
            p.Removed = true;
            p.Generation++;
            ReleasePending(p);
            _partitions.RemoveAt(i);
            _byKey.Remove(p.CursorKey);
            deletedCursors.Add(p.CursorKey);
        }
    }

    /// <summary>Where a newly seen partition starts: its saved cursor if it belongs to this topic incarnation, else the log start.</summary>
    private long StartOffset(PartitionState p)
    {
        var start = p.Log.LogStartOffset;
        if (!_savedCursors.Remove(p.CursorKey, out var saved)) return start;
        if (saved.Text is { } id && id != p.TopicId)
        {
            UplinkSenderLog.CursorReset(_logger, p.Topic, p.Partition, saved.Number, p.Log.HighWatermark, start);
            p.Dirty = true;
            return start;
        }
        return saved.Number;
    }

    private void ReleasePending(PartitionState p)
    {
        foreach (var f in p.Pending) _readAheadBytes -= f.Payload.Length;
        p.Pending.Clear();
    }

    // ---- state --------------------------------------------------------------------------------

    private sealed record PendingFrame(byte[] Payload, int RawLength, int Records, long LocalStart, long LocalEnd);

    private readonly record struct InFlight(ulong FrameId, PartitionState Partition, int Generation, long LocalEnd, int Records, double SentAt);

    private sealed class Connection(string parent, int index, double startedAt)
    {
        public string Parent { get; } = parent;
        public int Index { get; } = index;
        public double StartedAt { get; } = startedAt;
        public Queue<InFlight> InFlight { get; } = new();
        public volatile bool Established;
    }

    /// <summary>One forwarded local partition. Every field is guarded by the forwarder's lock.</summary>
    private sealed class PartitionState(TopicLog topic, PartitionLog log, string cursorKey, string targetTopic, string topicId)
    {
        public TopicLog TopicLog { get; } = topic;
        public PartitionLog Log { get; } = log;
        public string Topic => Log.Topic;
        public int Partition => Log.Partition;
        public string CursorKey { get; } = cursorKey;
        public string TargetTopic { get; } = targetTopic;
        public string TopicId { get; } = topicId;
        public int PartitionCount { get; set; } = topic.PartitionCount;
        public int Priority => TopicConfigKeys.UplinkPriorityOf(TopicLog.Config);
        /// <summary>Next local offset the parent has not acknowledged: the cursor.</summary>
        public long Acked { get; set; }
        /// <summary>Next local offset to read.</summary>
        public long SendPosition { get; set; }
        /// <summary>Bumped on every rewind: acks of older frames no longer move the cursor.</summary>
        public int Generation { get; set; }
        public Queue<PendingFrame> Pending { get; } = new();
        public double RetryAt { get; set; }
        public bool Dirty { get; set; }
        public bool Removed { get; set; }

        public bool IsReady(double now) =>
            !Removed && RetryAt <= now
            // Also "ready" when out of range, so CheckRange gets to move the position back inside.
            && (Pending.Count > 0 || Log.DurableOffset > SendPosition || SendPosition > Log.HighWatermark || SendPosition < Log.LogStartOffset);

        /// <summary>Sends again from the cursor: in-flight and read-ahead frames are forgotten.</summary>
        public void Rewind(UplinkForwarder owner)
        {
            Generation++;
            SendPosition = Acked;
            owner.ReleasePending(this);
        }

        public int InFlightFrames(Connection? connection)
        {
            if (connection is null) return 0;
            var n = 0;
            foreach (var f in connection.InFlight)
            {
                if (f.Partition == this && f.Generation == Generation) n++;
            }
            return n;
        }

        /// <summary>
        /// Keeps the read position inside the log: below the log start (retention or drop-oldest
        /// deleted unsent records) it jumps forward and counts the loss; past the end (the topic was
        /// re-created while the node was down) it starts over. False when nothing is left to read.
        /// </summary>
        public bool CheckRange(UplinkForwarder owner)
        {
            var start = Log.LogStartOffset;
            if (SendPosition < start)
            {
                var skipped = start - SendPosition;
                owner._status.Skipped(skipped);
                UplinkSenderLog.Skipped(owner._logger, Topic, Partition, skipped, SendPosition, start);
                if (Acked == SendPosition && InFlightFrames(owner._connection) == 0)
                {
                    Acked = start;
                    Dirty = true;
                }
                SendPosition = start;
            }
            var end = Log.HighWatermark;
            if (SendPosition > end)
            {
                UplinkSenderLog.CursorReset(owner._logger, Topic, Partition, SendPosition, end, start);
                Generation++;
                Acked = SendPosition = start;
                Dirty = true;
            }
            return SendPosition < end;
        }
    }
}
