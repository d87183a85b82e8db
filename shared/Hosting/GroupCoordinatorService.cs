using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Server;
using Microsoft.Extensions.Hosting;

namespace EdgeStream.Hosting;

/// <summary>
/// Runs the coordinators' clocks: a consumer that crashed sends nothing, so its session must
/// expire on a timer, not on the next request (Kafka's heartbeat purgatory); likewise a producer
/// that vanished mid-transaction, whose transaction aborts at transaction.timeout.ms. The first
/// tick also completes transactions a crash left prepared.
/// </summary>
public sealed class GroupCoordinatorService(KafkaBroker broker) : BackgroundService
{
    /// <summary>How often timeouts are checked: a session ends at most this late.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                broker.Groups.Tick();
                await broker.Transactions.TickAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
