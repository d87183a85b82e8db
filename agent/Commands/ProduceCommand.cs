using System.Buffers;
using System.CommandLine;
using System.IO.Pipelines;
using System.Text;
using System.Threading.Channels;
using EdgeStream.Hosting;
using EdgeStream.Kafka.Client;
using EdgeStream.Records;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream produce TOPIC</c>: one record from -m, or one record per stdin line. Lines are read
/// while the previous request is in flight, and everything read by then goes out in the next request
/// (one batch per partition), so a pipe is sent in large batches and a typed line at once. Exit 0 only
/// after the broker acknowledged every record (acks=all).
/// </summary>
internal static class ProduceCommand
{
    private const int MaxRecordsPerRequest = 10_000;
    private const int MaxBytesPerRequest = 900 * 1024; // under the 1 MiB default message.max.bytes of Kafka brokers
    private const int MaxLineBytes = 64 * 1024 * 1024;

    public static Command Create()
    {
        var command = new Command("produce", "Send records to a topic: the -m message, or one record per line of stdin (without the newline). Prints nothing on success unless --verbose.");
        var topicArgument = new Argument<string>("TOPIC") { Description = "Topic to produce to (created if the broker auto-creates topics)." };
        var message = new Option<string>("--message", "-m") { Description = "Send this one record instead of reading stdin.", HelpName = "MSG" };
        var key = new Option<string>("--key", "-k") { Description = "Key of every record (UTF-8); keyed records are partitioned by murmur2 of the key, like the Java client.", HelpName = "K" };
        var partition = new Option<int?>("--partition", "-p") { Description = "Send every record to this partition [default: murmur2(key), round-robin without a key].", HelpName = "P" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Report each acknowledged request on stderr." };
        command.Arguments.Add(topicArgument);
        command.Options.Add(message);
        command.Options.Add(key);
        command.Options.Add(partition);
        command.Options.Add(verbose);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) =>
        {
            var fixedPartition = parseResult.GetValue(partition);
            if (fixedPartition is < 0) return Task.FromResult(KafkaCli.UsageError("--partition must be 0 or more"));
            var keyText = parseResult.GetValue(key);
            var keyBytes = keyText is null ? (byte[]?)null : Encoding.UTF8.GetBytes(keyText);
            var single = parseResult.GetValue(message);
            var topicName = parseResult.GetValue(topicArgument)!;
            var isVerbose = parseResult.GetValue(verbose);
            return KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
            {
                var topic = await client.GetTopicAsync(topicName, allowAutoCreate: true, ct);
                if (fixedPartition >= topic.PartitionCount)
                    throw new KafkaClientException($"topic '{topicName}' has no partition {fixedPartition} (it has {topic.PartitionCount})");
                var sender = new Sender(client, topic, keyBytes, fixedPartition, isVerbose);
                if (single is not null)
                {
                    await sender.SendAsync([Encoding.UTF8.GetBytes(single)], ct);
                    return ExitCodes.Ok;
                }
                var lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(4 * MaxRecordsPerRequest) { SingleReader = true, SingleWriter = true });
                var reading = ReadLinesAsync(Console.OpenStandardInput(), lines.Writer, ct);
                var pending = new List<byte[]>();
                while (await lines.Reader.WaitToReadAsync(ct))
                {
                    var bytes = 0;
                    while (pending.Count < MaxRecordsPerRequest && bytes < MaxBytesPerRequest && lines.Reader.TryRead(out var line))
                    {
                        pending.Add(line);
                        bytes += line.Length + 16;
                    }
                    await sender.SendAsync(pending, ct);
                    pending.Clear();
                }
                await reading; // surfaces a read error of stdin
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    /// <summary>Splits stdin into lines on '\n' (bytes kept as they are); a last line without '\n' counts too.</summary>
    private static async Task ReadLinesAsync(Stream stdin, ChannelWriter<byte[]> lines, CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(stdin, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } newline)
                {
                    await lines.WriteAsync(buffer.Slice(0, newline).ToArray(), cancellationToken);
                    buffer = buffer.Slice(buffer.GetPosition(1, newline));
                }
                if (buffer.Length > MaxLineBytes)
                    throw new KafkaClientException($"a line of stdin is longer than {MaxLineBytes} bytes");
                if (result.IsCompleted)
                {
                    if (buffer.Length > 0) await lines.WriteAsync(buffer.ToArray(), cancellationToken);
                    reader.AdvanceTo(buffer.End);
                    break;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception ex)
        {
            failure = ex;
            throw;
        }
        finally
        {
            await reader.CompleteAsync();
            lines.TryComplete(failure);
        }
    }

    private sealed class Sender(KafkaClient client, TopicDescription topic, byte[]? key, int? fixedPartition, bool verbose)
    {
        private readonly Partitioner _partitioner = new();
        private readonly Dictionary<int, RecordBatchBuilder> _builders = [];

        public async Task SendAsync(IReadOnlyList<byte[]> values, CancellationToken cancellationToken)
        {
            if (values.Count == 0) return;
            var counts = new Dictionary<int, int>();
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var value in values)
            {
                var p = fixedPartition ?? _partitioner.Partition(key, key is not null, topic.PartitionCount);
                if (!_builders.TryGetValue(p, out var builder)) _builders[p] = builder = new RecordBatchBuilder();
                // Not builder.Add(key, ...): a null byte[] converts to an empty, non-null memory, i.e. an empty key.
                builder.Add(key is null ? (ReadOnlyMemory<byte>?)null : key.AsMemory(), value, now);
            }
            var batches = new List<(int, ReadOnlyMemory<byte>)>(_builders.Count);
            foreach (var (p, builder) in _builders)
            {
                if (builder.Count == 0) continue;
                counts[p] = builder.Count;
                batches.Add((p, builder.Build()));
                builder.Reset();
            }
            var results = await client.ProduceAsync(topic, batches, acks: -1, cancellationToken);
            if (!verbose) return;
            foreach (var r in results)
                Console.Error.WriteLine($"produced {counts[r.Partition]} record(s) to '{topic.Name}' partition {r.Partition} at offset {r.BaseOffset}");
        }
    }
}
