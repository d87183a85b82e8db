using EdgeStream.Metadata;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Storage;

// Every use of the storage library's API by the host is in this folder (and agent/Commands/FsckCommand.cs).

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
        StorageServicesLog.Opening(_logger, _options.LogDirectory, _options.Fsync);
        var manager = new LogManager(storageOptions, _loggerFactory);
        TopicCatalog catalog;
        try
        {
            var report = manager.Open();
            catalog = new TopicCatalog(manager, _metadata, new TopicDefaults { AutoCreate = _options.AutoCreateTopics, Partitions = _options.Partitions, ConfigsByName = Files.FilesHosting.TopicDefaults });
            catalog.Load();
            StorageServicesLog.Opened(_logger, report.Topics, report.Partitions, ByteSize.Format(manager.UsedBytes), report.Repairs.Count);
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
        StorageServicesLog.Closing(_logger);
        await manager.DisposeAsync().ConfigureAwait(false);
        StorageServicesLog.Closed(_logger);
    }
}
