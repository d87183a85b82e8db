using EdgeStream.Hosting.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Storage;

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
                        StorageServicesLog.RetentionRan(_logger, result.SegmentsDeleted, ByteSize.Format(result.BytesFreed));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One failed pass must not end the loop: the next tick retries.
                    StorageServicesLog.RetentionFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
