using EdgeStream.Hosting.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Storage;

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
                    StorageServicesLog.FlushFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
