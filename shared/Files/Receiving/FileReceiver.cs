using EdgeStream.Kafka.Client;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Files.Receiving;

/// <summary>How a <see cref="FileReceiver"/> consumes.</summary>
public sealed class FileReceiverOptions
{
    public const string DefaultGroup = "edgestream-files";

    /// <summary>Where files land: {Directory}/{origin}/{path}.</summary>
    public required string Directory { get; init; }
    public string Topic { get; init; } = Sending.FileSendOptions.DefaultTopic;
    /// <summary>Consumer group whose committed offsets say what is durable here. Default <c>edgestream-files</c>.</summary>
    public string Group { get; init; } = DefaultGroup;
    /// <summary>Origin of records without <c>es.origin.node</c>; null: the sender's <c>file.host</c>.</summary>
    public string? LocalOrigin { get; init; }
    /// <summary>Longest a fetch waits for new records.</summary>
    public TimeSpan PollWait { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Bytes fetched per partition per request: above the largest chunk record.</summary>
    public int MaxBytesPerPartition { get; init; } = 8 * 1024 * 1024;
}

/// <summary>
/// A consumer-group member that feeds the files topic into a <see cref="FileAssembler"/> and commits a
/// partition's offset only after the records before it are durable on disk (the assembler's flush): a
/// crash or kill -9 re-delivers what was not, and the assembler ignores the duplicates. Works against any
/// Kafka-compatible broker. New groups start at the beginning of the topic, so files sent before the
/// receiver started arrive too.
/// </summary>
public sealed class FileReceiver(KafkaClient client, FileReceiverOptions options, FilesStatus status, ILogger logger)
{
    /// <summary>Runs until cancelled. Throws <see cref="FilesException"/> when the disk fails (nothing unwritten was committed).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var assembler = new FileAssembler(options.Directory, status, logger, options.LocalOrigin);
        var topic = await WaitForTopicAsync(cancellationToken).ConfigureAwait(false);
        FilesLog.Started(logger, options.Directory, topic.Name, options.Group);
        await using var member = new GroupMember(client, options.Group, topic.Name);
        var positions = new Dictionary<int, long>();
        var retries = 0;
        try
        {
            while (true)
            {
                if (member.RejoinNeeded)
                {
                    await member.JoinAsync(cancellationToken).ConfigureAwait(false);
                    topic = await client.GetTopicAsync(topic.Name, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
                    positions = await member.StartPositionsAsync(topic, OffsetSpec.Earliest, cancellationToken).ConfigureAwait(false);
                }
                if (positions.Count == 0)
                {
                    await Task.Delay(options.PollWait, cancellationToken).ConfigureAwait(false);
                    member.ThrowIfHeartbeatFailed();
                    continue;
                }
                var fetched = await client.FetchAsync(topic, positions, options.PollWait, options.MaxBytesPerPartition, cancellationToken).ConfigureAwait(false);
                var advanced = new Dictionary<int, long>();
                var refresh = false;
                foreach (var part in fetched)
                {
                    if (part.ErrorCode == KafkaErrors.OffsetOutOfRange)
                    {
                        // Retention removed records before they were read: what is left of those files stays partial.
                        var reset = await client.ListOffsetsAsync(topic, [part.Partition], OffsetSpec.Earliest, cancellationToken).ConfigureAwait(false);
                        positions[part.Partition] = reset[part.Partition];
                        continue;
                    }
                    if (part.ErrorCode != 0)
                    {
                        KafkaErrors.RetryOrThrow(part.ErrorCode, ref retries, topic.Name, part.Partition);
                        refresh = true;
                        continue;
                    }
                    foreach (var record in part.Records) assembler.Accept(part.Partition, record);
                    if (part.NextOffset != positions[part.Partition]) advanced[part.Partition] = part.NextOffset;
                    positions[part.Partition] = part.NextOffset;
                }
                // Durable first, acknowledged second.
                assembler.Flush();
                if (advanced.Count > 0 && !member.RejoinNeeded) await member.CommitAsync(advanced, cancellationToken).ConfigureAwait(false);
                member.ThrowIfHeartbeatFailed();
                if (refresh)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
                    topic = await client.GetTopicAsync(topic.Name, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
                }
                else retries = 0;
            }
        }
        finally
        {
            using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await member.LeaveAsync(shutdown.Token).ConfigureAwait(false); }
            catch (Exception ex) when (ex is KafkaClientException or OperationCanceledException) { }
        }
    }

    private async Task<TopicDescription> WaitForTopicAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await client.GetTopicAsync(options.Topic, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaClientException ex) when (ex.ErrorCode == KafkaErrors.UnknownTopicOrPartition)
            {
                // Nothing sent yet: the topic appears with the first file.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
