using Polly;
using Polly.Retry;

namespace EdgeStream.Uplink.Sending;

// Connections: the reconnect loop (Polly), failover between parents through the IParentSelector,
// one connection's life (its send and receive loops and a watchdog) and how it ended.
public sealed partial class UplinkForwarder
{
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
                return await self.RunConnectionAsync(self._options.Parents[index], index, ct).ConfigureAwait(false);
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
        _status.Failed($"{from}: {reason}");
        UplinkSenderLog.Reconnecting(_logger, from, reason, attempt, (long)delay.TotalMilliseconds);
        if (changed) UplinkSenderLog.FailingOver(_logger, from, to, failures);
    }

    /// <summary>
    /// The mesh's parent (<see cref="UplinkSenderOptions.FollowMesh"/>): idle while there is none; a new
    /// choice closes the stream and connects at once; a failing parent is retried with exponential backoff
    /// (jitter, up to <see cref="UplinkSenderOptions.MaxBackoff"/>) that a new choice cuts short.
    /// </summary>
    private async Task FollowParentsAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        string? previous = null;
        var waitingLogged = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = Volatile.Read(ref _parentChanged).Task;
            UplinkParent? followed;
            lock (_lock) followed = _followed;
            if (followed is not { } parent)
            {
                _status.SetParent(null, connected: false);
                if (!waitingLogged) UplinkSenderLog.WaitingForParent(_logger);
                waitingLogged = true;
                await changed.WaitAsync(stoppingToken).ConfigureAwait(false);
                continue;
            }
            waitingLogged = false;
            var name = parent.ToString();
            if (previous is not null && previous != name) UplinkSenderLog.FollowingParent(_logger, name, previous);
            previous = name;
            string reason;
            try
            {
                var end = await RunConnectionAsync(parent, -1, stoppingToken).ConfigureAwait(false);
                if (end == ConnectionEnd.Stopped) return;
                failures = 0;
                reason = "the stream broke";
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                reason = ex.GetBaseException().Message;
            }
            if (changed.IsCompleted)
            {
                failures = 0;
                continue;
            }
            var delay = Backoff(failures);
            _status.Reconnect();
            _status.Failed($"{name}: {reason}");
            UplinkSenderLog.Reconnecting(_logger, name, reason, failures + 1, (long)delay.TotalMilliseconds);
            try { await changed.WaitAsync(delay, stoppingToken).ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var exponential = _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 20));
        var capped = Math.Min(exponential, _options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private async Task<ConnectionEnd> RunConnectionAsync(UplinkParent target, int parentIndex, CancellationToken stoppingToken)
    {
        var parent = target.ToString();
        _status.SetParent(parent, connected: false);
        UplinkSenderLog.Connecting(_logger, parent);
        var client = new Grpc.Uplink.UplinkClient(parentIndex >= 0 ? _channels.For(parentIndex) : _channels.For(target));
        var headers = new global::Grpc.Core.Metadata { { "es-node-id", _options.NodeId }, { "es-role", _options.Role } };

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var connection = new ParentConnection(parent, parentIndex, Now(), client);
        lock (_lock)
        {
            // Whatever was in flight on the last connection is sent again from the cursors.
            _partitions.RewindAll();
            _frameSize.Reset();
            _connection = connection;
            _connectionStop = cts;
            // The mesh moved on between the choice and here: this stream ends at once.
            if (_options.FollowMesh && _followed != target) cts.Cancel();
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
            // A revocation is what the node must report, whichever loop noticed the end of the call first.
            var error = receive.Exception?.GetBaseException() as UplinkRevokedException ?? first.Exception?.GetBaseException();
            if (error is UplinkRejectedException or UplinkRevokedException || !connection.Established)
                throw error ?? new IOException("the parent closed the stream");
            return ConnectionEnd.Broken;
        }
        finally
        {
            lock (_lock)
            {
                if (_connection == connection)
                {
                    _connection = null;
                    _connectionStop = null;
                }
            }
            _status.SetConnected(false);
        }
    }

    /// <summary>
    /// Sends a fleet report to the parent of the established connection: a unary call on the same
    /// channel, so its own HTTP/2 stream (data frames never wait behind it), and no part of the frames'
    /// bookkeeping. False when no parent answers now (the report is simply skipped; the next one follows).
    /// </summary>
    public async Task<bool> SendFleetReportAsync(Grpc.FleetReport report, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ParentConnection? connection;
        lock (_lock) connection = _connection;
        if (connection is not { Established: true }) return false;
        var headers = new global::Grpc.Core.Metadata { { "es-node-id", _options.NodeId }, { "es-role", _options.Role } };
        await connection.Client.ReportAsync(report, headers, DateTime.UtcNow + timeout, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static async Task Quiet(Task task)
    {
        try { await task.ConfigureAwait(false); }
        catch (Exception) { /* the first failure is reported; the others follow from the cancellation */ }
    }

    private void MarkEstablished(ParentConnection connection)
    {
        if (connection.Established) return;
        connection.Established = true;
        lock (_lock) _selector.OnConnected(Now());
        _status.SetParent(connection.Parent, connected: true);
        UplinkSenderLog.Connected(_logger, connection.Parent);
    }

    /// <summary>Catches a parent that stopped answering, and marks an idle but healthy stream as established.</summary>
    private async Task WatchdogAsync(ParentConnection connection, CancellationToken ct)
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
}
