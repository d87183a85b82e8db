using EdgeStream.Files.Receiving;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using EdgeStream.Kafka.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Files;

/// <summary>
/// <c>--files-dir</c>: the node reads its own files topic through its own Kafka listener, as a consumer
/// group like any other, and materializes complete files under the directory. Going through the listener
/// keeps the files library a plain Kafka client (no storage reference), and the group's committed offsets
/// are the receiver's durable position: committed only after the chunks are fsynced. Failures (the disk
/// full, the listener not up yet) are logged and retried with backoff; nothing unwritten is committed.
/// </summary>
internal sealed class FilesReceiverService(AgentOptions options, NodeContext node, StorageState storage, FilesStatus status, ILoggerFactory loggerFactory)
    : BackgroundService
{
    /// <summary>The group the node's receiver commits in.</summary>
    public const string Group = "__edgestream-files";

    private readonly ILogger _logger = loggerFactory.CreateLogger("EdgeStream.Files");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!storage.IsOpen)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), stoppingToken).ConfigureAwait(false);
                    continue;
                }
                await using var client = await KafkaClient.ConnectAsync(LocalKafka(options.Kafka), new KafkaClientOptions { ClientId = "edgestream-files" }, stoppingToken).ConfigureAwait(false);
                var receiver = new FileReceiver(client, new FileReceiverOptions { Directory = options.FilesDir!, Group = Group, LocalOrigin = node.NodeId }, status, _logger);
                delay = TimeSpan.FromMilliseconds(200);
                await receiver.RunAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is EdgeStreamException or IOException or UnauthorizedAccessException)
            {
                FilesHostingLog.ReceiverFailed(_logger, ex.Message, delay.TotalSeconds);
                try { await Task.Delay(delay, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>The node's own Kafka listener as a client reaches it: a wildcard bind is reached on loopback.</summary>
    internal static string LocalKafka(HostPort listener)
    {
        var host = listener.Host switch
        {
            "0.0.0.0" or "*" or "" => "127.0.0.1",
            "::" or "[::]" => "[::1]",
            _ => listener.Host.Contains(':') && !listener.Host.StartsWith('[') ? $"[{listener.Host}]" : listener.Host,
        };
        return $"{host}:{listener.Port}";
    }
}

/// <summary>Log messages of the files wiring (event ids 1270-1279); the receiver's own are the files library's (7000s).</summary>
internal static partial class FilesHostingLog
{
    [LoggerMessage(EventId = 1270, Level = LogLevel.Error, Message = "Files receiver: {Error}; retrying in {DelaySeconds} s (nothing after the last durable chunk was acknowledged)")]
    public static partial void ReceiverFailed(ILogger logger, string error, double delaySeconds);
}
