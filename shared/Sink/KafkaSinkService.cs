using EdgeStream.Metadata;
using EdgeStream.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Sink;

/// <summary>
/// The sink to an external Kafka cluster: one <see cref="PartitionSink"/> per selected local partition,
/// started as topics and partitions appear (the catalog is polled every second) and stopped when their
/// topic goes. Saves the target checkpoints every few seconds and at shutdown.
/// </summary>
public sealed class KafkaSinkService(SinkOptions options, Func<TopicCatalog?> catalog, MetadataStore metadata, SinkStatus status, ILogger<KafkaSinkService> logger)
    : BackgroundService
{
    private static readonly TimeSpan Discover = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SaveEvery = TimeSpan.FromSeconds(5);

    private readonly Dictionary<(string Topic, int Partition), (Task Run, CancellationTokenSource Stop, TopicLog Log)> _workers = [];

    public SinkStatus Status => status;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        SinkLog.Starting(logger, string.Join(",", options.Bootstrap), options.SecurityProtocol);
        var store = new SinkStore(metadata);
        var targets = new TargetRegistry(store);
        var lastSave = Environment.TickCount64;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (catalog() is { } topics) Reconcile(topics, store, targets, stoppingToken);
                if (Environment.TickCount64 - lastSave >= SaveEvery.TotalMilliseconds)
                {
                    await SaveAsync(targets, stoppingToken).ConfigureAwait(false);
                    lastSave = Environment.TickCount64;
                }
                await Task.Delay(Discover, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var (_, w) in _workers) w.Stop.Cancel();
            foreach (var (_, w) in _workers)
            {
                await w.Run.ConfigureAwait(false);
                w.Stop.Dispose();
            }
            _workers.Clear();
            await SaveAsync(targets, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private void Reconcile(TopicCatalog topics, SinkStore store, TargetRegistry targets, CancellationToken stoppingToken)
    {
        var seen = new HashSet<(string, int)>();
        foreach (var topic in topics.Topics)
        {
            if (!options.Topics.Includes(topic.Name)) continue;
            var id = topics.TopicId(topic.Name);
            foreach (var partition in topic.Partitions)
            {
                var key = (topic.Name, partition.Partition);
                seen.Add(key);
                // A topic deleted and re-created under the same name is a new log: start its worker over.
                if (_workers.TryGetValue(key, out var existing) && ReferenceEquals(existing.Log, topic)) continue;
                existing.Stop?.Cancel();
                var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var worker = new PartitionSink(options, topic, partition, id, options.Topics.TargetOf(topic.Name), store, targets, status, logger);
                _workers[key] = (Task.Run(() => worker.RunAsync(stop.Token), CancellationToken.None), stop, topic);
            }
        }
        foreach (var key in _workers.Keys.ToList())
        {
            if (seen.Contains(key)) continue;
            _workers[key].Stop.Cancel();
            _workers.Remove(key);
            status.Remove(key.Item1, key.Item2);
            store.DeleteCursor(key.Item1, key.Item2);
        }
    }

    private async Task SaveAsync(TargetRegistry targets, CancellationToken cancellationToken)
    {
        try
        {
            await targets.SaveDirtyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EdgeStreamException or IOException or ObjectDisposedException)
        {
            // A checkpoint that is behind only costs a longer scan of the target after a restart.
            SinkLog.Failed(logger, "*", -1, "saving the target checkpoints failed: " + ex.Message);
        }
    }
}
