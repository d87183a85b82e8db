using System.Threading.Channels;
using EdgeStream.Cdc.Capture;
using EdgeStream.Cdc.Postgres;
using EdgeStream.Metadata;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using NpgsqlTypes;

namespace EdgeStream.Cdc;

/// <summary>
/// One CDC source for the agent's life: connect, prepare publication and slot, stream (and snapshot
/// alongside), and on any failure reconnect with exponential backoff, forever. Three loops per
/// connection: the capture (pgoutput into records), the writer (records into the log, then the
/// confirmed LSN to PostgreSQL) and the control loop (snapshot chunks, slot lag, heartbeats).
/// </summary>
public sealed class CdcSource
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly CdcSourceOptions _options;
    private readonly Func<TopicCatalog?> _catalog;
    private readonly MetadataStore _metadata;
    private readonly string _workDirectory;
    private readonly ILogger _logger;

    public CdcSource(CdcSourceOptions options, Func<TopicCatalog?> catalog, MetadataStore metadata, string workDirectory, ILogger logger)
    {
        _options = options;
        _catalog = catalog;
        _metadata = metadata;
        _workDirectory = workDirectory;
        _logger = logger;
        Status = new CdcSourceStatus(options);
    }

    public CdcSourceStatus Status { get; }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = DateTimeOffset.UtcNow;
            string reason;
            var setupFailure = false;
            try
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (CdcSetupException ex)
            {
                reason = ex.Message;
                setupFailure = true;
            }
            catch (PostgresException ex) when (CdcSetup.Explain(_options, ex) is CdcSetupException explained)
            {
                reason = explained.Message;
                setupFailure = true;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or EdgeStreamException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                reason = ex.Message;
            }
            if (DateTimeOffset.UtcNow - started > MaxBackoff) backoff = TimeSpan.FromSeconds(1);
            var delay = setupFailure ? MaxBackoff : backoff + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 250));
            if (setupFailure)
            {
                Status.Set("failed", reason);
                CdcLog.SetupFailed(_logger, _options.Name, reason, (long)delay.TotalMilliseconds);
            }
            else
            {
                Status.Set("reconnecting", reason);
                CdcLog.Reconnecting(_logger, _options.Name, reason, (long)delay.TotalMilliseconds);
            }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            try
            {
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private string ConnectionString()
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = _options.Host,
            Port = _options.Port,
            Username = _options.User,
            Database = _options.Database,
            Password = _options.ReadPassword(),
            ApplicationName = $"edgestream-cdc-{_options.Name}",
            Timeout = 10,
            CommandTimeout = 0,
            // One text form for every value, whatever the server's defaults: the mapping to JSON reads these.
            Options = "-c DateStyle=ISO -c IntervalStyle=iso_8601 -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex",
            KeepAlive = 10,
        };
        return builder.ConnectionString;
    }

    private async Task RunOnceAsync(CancellationToken stoppingToken)
    {
        Status.Set("starting");
        CdcLog.Connecting(_logger, _options.Name, _options.Describe());
        var connectionString = ConnectionString();
        await using var database = new NpgsqlSlimDataSourceBuilder(connectionString).Build();
        await using var replication = new LogicalReplicationConnection(connectionString)
        {
            // The confirmed position reaches the server within a second even when no more changes come.
            WalReceiverStatusInterval = TimeSpan.FromSeconds(1),
        };
        await replication.Open(stoppingToken).ConfigureAwait(false);
        var setup = await CdcSetup.PrepareAsync(_options, database, replication, _logger, stoppingToken).ConfigureAwait(false);
        Volatile.Write(ref Status.Tables, setup.Tables.Count);

        var progress = new SnapshotProgress(_metadata, _options.Name);
        var pending = PendingSnapshots(setup, progress);
        Volatile.Write(ref Status.SnapshotTablesPending, pending.Count);

        using var run = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var ct = run.Token;
        var channel = Channel.CreateBounded<CdcItem>(new BoundedChannelOptions(8192) { SingleReader = true, SingleWriter = true });
        var log = new CdcLogWriter(_catalog);
        var catalog = new CdcCatalog(database, _options.TopicPrefix);
        var spoolDirectory = Path.Combine(_workDirectory, _options.Name);
        // Spools left by a kill -9: PostgreSQL sends those in-progress transactions again from the slot.
        if (Directory.Exists(spoolDirectory))
            foreach (var stale in Directory.GetFiles(spoolDirectory, "spool-*")) File.Delete(stale);
        var capture = new CdcCapture(_options, catalog, channel.Writer, spoolDirectory, static () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var snapshotter = new ChunkSnapshotter(_options, database, catalog, capture, log, progress, Status, _logger);
        var monitor = new SlotMonitor(_options, database, Status, _logger);

        var slot = new PgOutputReplicationSlot(_options.Slot);
        var replicationOptions = new PgOutputReplicationOptions(_options.Publication, PgOutputProtocolVersion.V2,
            binary: false, streamingMode: PgOutputStreamingMode.On, messages: true);
        var messages = replication.StartReplication(slot, replicationOptions, ct);
        CdcLog.Streaming(_logger, _options.Name, _options.Slot, _options.Publication, setup.Tables.Count);
        Status.Set(pending.Count > 0 ? "snapshotting" : "streaming");

        var captureTask = Task.Run(async () =>
        {
            try
            {
                await foreach (var message in messages.ConfigureAwait(false))
                    await capture.HandleAsync(message, ct).ConfigureAwait(false);
            }
            finally
            {
                channel.Writer.TryComplete();
                capture.Dispose();
            }
        }, ct);
        var writerTask = Task.Run(() => WriteAsync(channel.Reader, log, progress, replication, ct), ct);
        var controlTask = Task.Run(() => ControlAsync(snapshotter, monitor, pending, ct), ct);
        try
        {
            var first = await Task.WhenAny(captureTask, writerTask, controlTask).ConfigureAwait(false);
            await first.ConfigureAwait(false); // rethrows its failure
            throw new CdcException("the replication stream ended");
        }
        finally
        {
            await run.CancelAsync().ConfigureAwait(false);
            try { await Task.WhenAll(captureTask, writerTask, controlTask).ConfigureAwait(false); }
            catch (Exception) when (ct.IsCancellationRequested) { }
            if (log.Skipped > 0) CdcLog.SkippedReplays(_logger, _options.Name, log.Skipped);
        }
    }

    private List<string> PendingSnapshots(CdcSetup.Result setup, SnapshotProgress progress)
    {
        var pending = new List<string>();
        foreach (var table in setup.Tables)
        {
            var known = progress.TryGet(table, out var state, out _);
            switch (_options.Snapshot)
            {
                case SnapshotMode.Never:
                    if (!known) progress.Save(table, SnapshotProgress.Done, 0);
                    break;
                case SnapshotMode.WhenNeeded when setup.SlotCreated && known:
                    // The slot was lost: what happened meanwhile is gone, so every table is copied again.
                    progress.Save(table, SnapshotProgress.Pending, 0);
                    pending.Add(table);
                    break;
                default:
                    if (state != SnapshotProgress.Done) pending.Add(table);
                    break;
            }
        }
        return pending;
    }

    private async Task WriteAsync(ChannelReader<CdcItem> reader, CdcLogWriter log, SnapshotProgress progress, LogicalReplicationConnection replication, CancellationToken ct)
    {
        var batch = new List<CdcItem>(4096);
        var lastStatusUpdate = DateTimeOffset.MinValue;
        while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 4096 && reader.TryRead(out var item)) batch.Add(item);
            var written = await log.AppendAsync(batch, ct).ConfigureAwait(false);
            Interlocked.Add(ref Status.Rows, written);
            ulong confirm = 0;
            foreach (var item in batch)
            {
                if (item.Kind == CdcItemKind.Confirm)
                {
                    confirm = Math.Max(confirm, item.Lsn);
                    if (item.CommitMillis > 0) Interlocked.Exchange(ref Status.LastCommitMillis, item.CommitMillis);
                }
                else if (item.Kind == CdcItemKind.ChunkDone && item.Chunk is { } chunk)
                {
                    var table = $"{chunk.Columns.Schema}.{chunk.Columns.Table}";
                    progress.Save(table, chunk.Last ? SnapshotProgress.Done : chunk.EndCursor!, log.Partition(chunk.Topic).HighWatermark);
                    chunk.Completed.TrySetResult();
                }
            }
            if (confirm == 0) continue;
            // Only now, with every record before it durable, may PostgreSQL release the WAL up to here.
            replication.SetReplicationStatus(new NpgsqlLogSequenceNumber(confirm));
            Volatile.Write(ref Status.ConfirmedLsn, confirm);
            if (DateTimeOffset.UtcNow - lastStatusUpdate > TimeSpan.FromSeconds(1))
            {
                lastStatusUpdate = DateTimeOffset.UtcNow;
                await replication.SendStatusUpdate(ct).ConfigureAwait(false);
            }
        }
    }

    private async Task ControlAsync(ChunkSnapshotter snapshotter, SlotMonitor monitor, List<string> pending, CancellationToken ct)
    {
        var nextTick = DateTimeOffset.MinValue;
        while (!ct.IsCancellationRequested)
        {
            if (DateTimeOffset.UtcNow >= nextTick)
            {
                await monitor.TickAsync(ct).ConfigureAwait(false);
                nextTick = DateTimeOffset.UtcNow + _options.Heartbeat;
            }
            if (pending.Count > 0)
            {
                await snapshotter.SnapshotAsync(pending[0], ct).ConfigureAwait(false);
                pending.RemoveAt(0);
                Volatile.Write(ref Status.SnapshotTablesPending, pending.Count);
                if (pending.Count == 0) Status.Set("streaming");
                continue;
            }
            var wait = nextTick - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
        }
    }
}
