using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using EdgeStream.Kafka.Server;
using EdgeStream.Uplink.Fleet;
using EdgeStream.Uplink.Grpc;
using EdgeStream.Uplink.Sending;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Fleet;

/// <summary>
/// Every <c>--fleet-report-interval</c>, sends this node's report, and on a gateway the reports of the
/// nodes below it, to the parent over the uplink (<see cref="UplinkForwarder.SendFleetReportAsync"/>).
/// Runs only on nodes that forward. A failed send is logged at debug level and skipped: the next report
/// supersedes it, and the parent marks the node stale only after <c>--fleet-stale-after</c>.
/// </summary>
public sealed partial class FleetReportService(
    AgentOptions options, NodeContext node, StorageState storage, UplinkStatus uplink, UplinkForwarder forwarder,
    IServiceProvider services, ILogger<FleetReportService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.FleetReportInterval);
        var registry = services.GetService(typeof(FleetRegistry)) as FleetRegistry;
        var broker = services.GetService(typeof(KafkaBroker)) as KafkaBroker;
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var report = new FleetReport();
            report.Nodes.Add(FleetReports.Own(node, storage, uplink, broker));
            if (registry is not null) report.Nodes.AddRange(registry.ForRelay());
            try
            {
                await forwarder.SendFleetReportAsync(report, options.FleetReportInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is not OutOfMemoryException)
            {
                ReportFailed(logger, ex.GetBaseException().Message);
            }
        }
    }

    [LoggerMessage(EventId = 1290, Level = LogLevel.Debug, Message = "Fleet report not delivered to the parent: {Reason}")]
    private static partial void ReportFailed(ILogger logger, string reason);
}
