using EdgeStream.Metadata;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Cdc;

/// <summary>Runs every configured CDC source side by side; one failing never stops the others.</summary>
public sealed class CdcService : BackgroundService
{
    private readonly IReadOnlyList<CdcSource> _sources;

    public CdcService(IReadOnlyList<CdcSourceOptions> sources, Func<TopicCatalog?> catalog, MetadataStore metadata, string workDirectory, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("EdgeStream.Cdc");
        _sources = sources.Select(s => new CdcSource(s, catalog, metadata, workDirectory, logger)).ToList();
    }

    public IReadOnlyList<CdcSource> Sources => _sources;

    public IReadOnlyList<CdcSourceStatusSnapshot> Snapshot() => _sources.Select(s => s.Status.Snapshot()).ToList();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_sources.Select(s => Task.Run(() => s.RunAsync(stoppingToken), stoppingToken)));
}
