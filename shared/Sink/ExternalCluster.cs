using EdgeStream.Kafka.Client;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Sink;

/// <summary>
/// One worker's connection to the external cluster: a <see cref="KafkaClient"/> (not thread-safe,
/// hence one per worker) made from the bootstrap list in turn, and the target topics it has looked up
/// or created. After any failure the worker calls <see cref="ResetAsync"/>, and the next use connects
/// afresh (to the next bootstrap broker) and describes the topics again.
/// </summary>
internal sealed class ExternalCluster(SinkOptions options, ILogger logger) : IAsyncDisposable
{
    private readonly Dictionary<string, TopicDescription> _topics = new(StringComparer.Ordinal);
    private KafkaClient? _client;
    private SinkProducer? _producer;
    private int _next;

    public async Task<KafkaClient> ClientAsync(CancellationToken cancellationToken)
    {
        if (_client is not null) return _client;
        var bootstrap = options.Bootstrap[_next++ % options.Bootstrap.Count];
        _client = await KafkaClient.ConnectAsync(bootstrap, new KafkaClientOptions
        {
            ClientId = "edgestream-sink-" + options.NodeId,
            ConnectTimeout = options.RequestTimeout,
            RequestTimeout = options.RequestTimeout,
            Tls = options.Tls,
            Sasl = options.Sasl,
        }, cancellationToken).ConfigureAwait(false);
        return _client;
    }

    /// <summary>
    /// The target topic, created with <paramref name="partitionsIfNew"/> partitions when the cluster does
    /// not have it (the same count as the local topic, so local partition p feeds target partition p).
    /// </summary>
    public async Task<TopicDescription> TopicAsync(string name, int partitionsIfNew, CancellationToken cancellationToken)
    {
        if (_topics.TryGetValue(name, out var known)) return known;
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        TopicDescription topic;
        try
        {
            topic = await client.GetTopicAsync(name, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaClientException ex) when (ex.ErrorCode == KafkaErrors.UnknownTopicOrPartition)
        {
            try
            {
                var created = await client.CreateTopicAsync(name, partitionsIfNew, cancellationToken: cancellationToken).ConfigureAwait(false);
                SinkLog.TopicCreated(logger, name, created);
            }
            catch (KafkaClientException race) when (race.ErrorCode == KafkaErrors.TopicAlreadyExists)
            {
                // Another worker or cloud node created it first: use theirs.
            }
            topic = await client.GetTopicAsync(name, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
        }
        _topics[name] = topic;
        return topic;
    }

    /// <summary>
    /// How this connection writes (<see cref="SinkProducer"/>), with the connection to the leader of
    /// <paramref name="partition"/>. One producer id per connection: dropped with it.
    /// </summary>
    public async Task<(KafkaClientConnection Leader, SinkProducer Producer)> ProducerAsync(TopicDescription topic, int partition, CancellationToken cancellationToken)
    {
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        var leader = await client.LeaderConnectionAsync(topic, partition, cancellationToken).ConfigureAwait(false);
        _producer ??= await SinkProducer.StartAsync(client, leader, cancellationToken).ConfigureAwait(false);
        return (leader, _producer);
    }

    public async Task ResetAsync()
    {
        _topics.Clear();
        _producer = null;
        if (_client is { } client)
        {
            _client = null;
            try { await client.DisposeAsync().ConfigureAwait(false); }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException) { }
        }
    }

    public ValueTask DisposeAsync() => new(ResetAsync());
}
