using EdgeStream.Metadata;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Storage;

// Every use of the storage library's API by the host is in this folder (and agent/Commands/FsckCommand.cs).

/// <summary>The open <see cref="LogManager"/>, once storage is up; readiness for <c>/healthz</c>.</summary>
public sealed class StorageState
{
    private volatile LogManager? _manager;

    /// <summary>The log manager, or null before start-up finished or after shutdown began.</summary>
    public LogManager? Manager => _manager;

    /// <summary>The topic catalog over the open log (topics, configs, ids kept in step with meta.db).</summary>
    public TopicCatalog? Catalog => _catalog;

    /// <summary>True while storage is open and serving.</summary>
    public bool IsOpen => _manager is not null;

    private volatile TopicCatalog? _catalog;

    internal void Set(LogManager? manager, TopicCatalog? catalog = null)
    {
        _catalog = catalog;
        _manager = manager;
    }
}

/// <summary>
/// Opens the log in <see cref="StartAsync"/> (scan + recovery) and closes it in <see cref="StopAsync"/>
/// (flush, fsync, close files, mark clean shutdown). Registered first, so it stops last: the loops
/// that use storage have stopped by then.
/// </summary>
public sealed class StorageHostedService : IHostedService
{
    private readonly AgentOptions _options;
    private readonly StorageState _state;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;

    private readonly MetadataStore _metadata;

    public StorageHostedService(AgentOptions options, StorageState state, MetadataStore metadata, ILoggerFactory loggerFactory)
    {
        _metadata = metadata;
        _options = options;
        _state = state;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<StorageHostedService>();
    }

    /// <summary>Maps the agent's settings to the storage library's options (not yet validated).</summary>
    public static StorageOptions CreateStorageOptions(AgentOptions options) => new()
    {
        LogDirectory = options.LogDirectory,
        FsyncPolicy = options.Fsync,
        GroupCommitInterval = options.FsyncInterval,
        MaxDiskBytes = options.MaxDiskBytes,
        DefaultTopicConfig = TopicConfig.Default with
        {
            SegmentBytes = options.SegmentBytes,
            RetentionBytes = options.RetentionBytes,
            RetentionAge = options.Retention,
            DiskFullPolicy = options.DiskFullPolicy,
        },
    };

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var storageOptions = CreateStorageOptions(_options);
        storageOptions.Validate();
        StorageLog.Opening(_logger, _options.LogDirectory, _options.Fsync);
        var manager = new LogManager(storageOptions, _loggerFactory);
        TopicCatalog catalog;
        try
        {
            var report = manager.Open();
            catalog = new TopicCatalog(manager, _metadata, new TopicDefaults { AutoCreate = _options.AutoCreateTopics, Partitions = _options.Partitions });
            catalog.Load();
            StorageLog.Opened(_logger, report.Topics, report.Partitions, ByteSize.Format(manager.UsedBytes), report.Repairs.Count);
        }
        catch
        {
            // Close whatever was opened before the failure; the original error is what matters.
            try { manager.DisposeAsync().AsTask().GetAwaiter().GetResult(); } catch (Exception) { }
            throw;
        }
        _state.Set(manager, catalog);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var manager = _state.Manager;
        if (manager is null) return;
        _state.Set(null);
        StorageLog.Closing(_logger);
        await manager.DisposeAsync().ConfigureAwait(false);
        StorageLog.Closed(_logger);
    }
}

/// <summary>Deletes expired and oversize segments every <see cref="AgentOptions.RetentionCheckInterval"/>.</summary>
public sealed class RetentionService : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly StorageState _state;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public RetentionService(AgentOptions options, StorageState state, ILogger<RetentionService> logger, TimeProvider? time = null)
    {
        _options = options;
        _state = state;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.RetentionCheckInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (_state.Manager is not { } manager) continue;
                try
                {
                    var result = manager.EnforceRetention(_time.GetUtcNow());
                    if (result.SegmentsDeleted > 0)
                        StorageLog.RetentionRan(_logger, result.SegmentsDeleted, ByteSize.Format(result.BytesFreed));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One failed pass must not end the loop: the next tick retries.
                    StorageLog.RetentionFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Under <c>--fsync os</c>, fsyncs everything every <see cref="AgentOptions.FlushInterval"/> so the OS never holds more than that.</summary>
public sealed class OsFlushService : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly StorageState _state;
    private readonly ILogger _logger;

    public OsFlushService(AgentOptions options, StorageState state, ILogger<OsFlushService> logger)
    {
        _options = options;
        _state = state;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.FlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (_state.Manager is not { } manager) continue;
                try
                {
                    await manager.FlushAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    StorageLog.FlushFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

internal static partial class StorageLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Opening log in {LogDirectory} (fsync {Fsync})")]
    public static partial void Opening(ILogger logger, string logDirectory, FsyncPolicy fsync);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Log open: {Topics} topics, {Partitions} partitions, {Used} used, {Repairs} segments repaired on recovery")]
    public static partial void Opened(ILogger logger, int topics, int partitions, string used, int repairs);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Closing log: flushing and fsyncing")]
    public static partial void Closing(ILogger logger);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Log closed cleanly")]
    public static partial void Closed(ILogger logger);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Retention deleted {Segments} segments, freed {Freed}")]
    public static partial void RetentionRan(ILogger logger, int segments, string freed);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Error, Message = "Retention pass failed; retrying next interval")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1120, Level = LogLevel.Error, Message = "Background flush failed; retrying next interval")]
    public static partial void FlushFailed(ILogger logger, Exception exception);
}
