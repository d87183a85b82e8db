using System.Buffers;
using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using EdgeStream.Hosting;
using EdgeStream.Kafka.Client;
using EdgeStream.Records;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream consume TOPIC</c>: print records, one per line. Starts at the end (new records only),
/// at the beginning, or at an offset of one partition; follows until Ctrl-C, -n records, or --timeout
/// without a record. With --group it is a member of a consumer group instead: it reads the partitions
/// the group assigns it from the committed offsets and commits after printing (at least once).
/// </summary>
internal static class ConsumeCommand
{
    private static readonly TimeSpan s_pollWait = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var command = new Command("consume", "Print a topic's records, one per line: text (the value as is) or json. Starts at the end and follows new records until Ctrl-C, unless -n or --timeout say when to stop.");
        var topicArgument = new Argument<string>("TOPIC") { Description = "Topic to read." };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the first record of each partition instead of the end (with --group: only where the group has no committed offset)." };
        var partition = new Option<int?>("--partition", "-p") { Description = "Read only this partition [default: all].", HelpName = "P" };
        var offset = new Option<long?>("--offset", "-o") { Description = "Start at this offset (needs --partition).", HelpName = "O" };
        var count = new Option<long?>("--count", "-n") { Description = "Exit after this many records.", HelpName = "COUNT" };
        var format = new Option<string>("--format", "-f")
        {
            Description = "text: the value as UTF-8 bytes; json: {\"partition\",\"offset\",\"timestamp\",\"key\",\"value\",\"headers\"} where a key or value that is not valid UTF-8 is {\"base64\":\"...\"}",
            HelpName = "text|json",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json");
        var timeout = new Option<string>("--timeout") { Description = "Exit (0) when no record arrives for this long, e.g. 5s, 500ms.", HelpName = "DURATION" };
        var group = new Option<string>("--group", "-g")
        {
            Description = "Consume as a member of this consumer group: read the partitions it assigns from its committed offsets (--from-beginning: the start where it has none, else the end) and commit after printing.",
            HelpName = "GROUP",
        };
        command.Arguments.Add(topicArgument);
        command.Options.Add(fromBeginning);
        command.Options.Add(partition);
        command.Options.Add(offset);
        command.Options.Add(count);
        command.Options.Add(format);
        command.Options.Add(timeout);
        command.Options.Add(group);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) =>
        {
            var settings = new Settings
            {
                Topic = parseResult.GetValue(topicArgument)!,
                FromBeginning = parseResult.GetValue(fromBeginning),
                Partition = parseResult.GetValue(partition),
                Offset = parseResult.GetValue(offset),
                Count = parseResult.GetValue(count),
                Json = parseResult.GetValue(format) == "json",
                Group = parseResult.GetValue(group),
            };
            if (settings.Group is not null)
            {
                if (settings.Group.Length == 0) return Task.FromResult(KafkaCli.UsageError("--group must not be empty"));
                if (settings.Partition is not null || settings.Offset is not null)
                    return Task.FromResult(KafkaCli.UsageError("--group assigns partitions and starts at committed offsets: it excludes --partition and --offset"));
            }
            if (settings.Partition is < 0) return Task.FromResult(KafkaCli.UsageError("--partition must be 0 or more"));
            if (settings.Offset is not null && settings.Partition is null) return Task.FromResult(KafkaCli.UsageError("--offset needs --partition"));
            if (settings.Offset is < 0) return Task.FromResult(KafkaCli.UsageError("--offset must be 0 or more"));
            if (settings.Offset is not null && settings.FromBeginning) return Task.FromResult(KafkaCli.UsageError("--offset and --from-beginning exclude each other"));
            if (settings.Count is < 1) return Task.FromResult(KafkaCli.UsageError("--count must be at least 1"));
            if (parseResult.GetValue(timeout) is { } timeoutText)
            {
                if (!DurationText.TryParse(timeoutText, out var idle) || idle <= TimeSpan.Zero)
                    return Task.FromResult(KafkaCli.UsageError($"--timeout: '{timeoutText}' is not a duration such as 500ms, 5s or 1m"));
                settings.IdleTimeout = idle;
            }
            return KafkaCli.RunAsync(parseResult, bootstrap, (client, ct) => settings.Group is null
                ? ConsumeAsync(client, settings, ct)
                : ConsumeInGroupAsync(client, settings, ct));
        });
        return command;
    }

    private sealed class Settings
    {
        public required string Topic { get; init; }
        public bool FromBeginning { get; init; }
        public int? Partition { get; init; }
        public long? Offset { get; init; }
        public long? Count { get; init; }
        public bool Json { get; init; }
        public string? Group { get; init; }
        public TimeSpan? IdleTimeout { get; set; }
    }

    /// <summary>
    /// The topic to read. With --timeout a topic that does not exist yet (records still on their way
    /// up the hierarchy, a producer not started yet) is waited for that long, as Kafka's console
    /// consumer waits; without it, a wrong name is said at once.
    /// </summary>
    private static async Task<TopicDescription> TopicToReadAsync(KafkaClient client, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.IdleTimeout is not { } idle) return await client.GetTopicAsync(settings.Topic, allowAutoCreate: false, cancellationToken);
        var deadline = Environment.TickCount64 + (long)idle.TotalMilliseconds;
        var said = false;
        while (true)
        {
            try
            {
                return await client.GetTopicAsync(settings.Topic, allowAutoCreate: false, cancellationToken);
            }
            catch (KafkaClientException ex) when (ex.ErrorCode == KafkaErrors.UnknownTopicOrPartition && Environment.TickCount64 < deadline)
            {
                if (!said) Console.Error.WriteLine($"edgestream: topic '{settings.Topic}' does not exist yet; waiting up to {idle.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}s for it");
                said = true;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(deadline - Environment.TickCount64, 1, 250)), cancellationToken);
            }
        }
    }

    private static async Task<int> ConsumeAsync(KafkaClient client, Settings settings, CancellationToken cancellationToken)
    {
        var topic = await TopicToReadAsync(client, settings, cancellationToken);
        if (settings.Partition >= topic.PartitionCount)
            throw new KafkaClientException($"topic '{topic.Name}' has no partition {settings.Partition} (it has {topic.PartitionCount})");
        List<int> partitions = settings.Partition is { } only ? [only] : [.. topic.Partitions.Select(p => p.Index)];

        var offsets = new Dictionary<int, long>();
        if (settings.Offset is { } start) offsets[settings.Partition!.Value] = start;
        else
        {
            var spec = settings.FromBeginning ? OffsetSpec.Earliest : OffsetSpec.Latest;
            foreach (var (p, o) in await client.ListOffsetsAsync(topic, partitions, spec, cancellationToken)) offsets[p] = o;
        }

        using var output = new LineOutput();
        var json = new ArrayBufferWriter<byte>();
        var remaining = settings.Count ?? long.MaxValue;
        var lastRecord = Environment.TickCount64;
        var explicitOffset = settings.Offset is not null;
        var retries = 0;
        while (true)
        {
            var wait = s_pollWait;
            if (settings.IdleTimeout is { } idle)
            {
                var left = TimeSpan.FromMilliseconds(lastRecord + (long)idle.TotalMilliseconds - Environment.TickCount64);
                if (left <= TimeSpan.Zero) return ExitCodes.Ok;
                if (left < wait) wait = left;
            }

            var fetched = await client.FetchAsync(topic, offsets, wait, cancellationToken: cancellationToken);
            var refresh = false;
            var printed = false;
            foreach (var part in fetched)
            {
                if (part.ErrorCode == KafkaErrors.OffsetOutOfRange)
                {
                    // An offset the user asked for is a usage mistake worth stopping for; a position retention
                    // overtook while following is not: start over at the log start, as auto.offset.reset=earliest.
                    var bounds = await client.ListOffsetsAsync(topic, [part.Partition], OffsetSpec.Earliest, cancellationToken);
                    if (explicitOffset)
                    {
                        var end = await client.ListOffsetsAsync(topic, [part.Partition], OffsetSpec.Latest, cancellationToken);
                        throw new KafkaClientException($"offset {offsets[part.Partition]} is out of range for '{topic.Name}' partition {part.Partition} (valid: {bounds[part.Partition]} to {end[part.Partition]})");
                    }
                    Console.Error.WriteLine($"edgestream: offset {offsets[part.Partition]} of partition {part.Partition} is gone; continuing at {bounds[part.Partition]}");
                    offsets[part.Partition] = bounds[part.Partition];
                    continue;
                }
                if (part.ErrorCode != 0)
                {
                    KafkaErrors.RetryOrThrow(part.ErrorCode, ref retries, topic.Name, part.Partition);
                    refresh = true;
                    continue;
                }
                explicitOffset = false;
                foreach (var record in part.Records)
                {
                    if (!Write(output, json, settings.Json, part.Partition, record)) return ExitCodes.Ok; // the reader went away
                    lastRecord = Environment.TickCount64;
                    printed = true;
                    if (--remaining == 0) return ExitCodes.Ok;
                }
                offsets[part.Partition] = part.NextOffset;
            }
            if (!printed && output.ReaderGone()) return ExitCodes.Ok;
            if (refresh)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
                topic = await client.GetTopicAsync(settings.Topic, allowAutoCreate: false, cancellationToken);
            }
            else retries = 0;
        }
    }

    /// <summary>
    /// Group mode: join, read the assigned partitions from the committed offsets, print, commit what was
    /// printed (after it was written: at least once), rejoin when the group rebalances, and on the way
    /// out (-n, --timeout, Ctrl-C, closed pipe) commit what is left and leave the group.
    /// </summary>
    private static async Task<int> ConsumeInGroupAsync(KafkaClient client, Settings settings, CancellationToken cancellationToken)
    {
        var topic = await TopicToReadAsync(client, settings, cancellationToken);
        await using var member = new GroupMember(client, settings.Group!, topic.Name);
        using var output = new LineOutput();
        var json = new ArrayBufferWriter<byte>();
        var remaining = settings.Count ?? long.MaxValue;
        var lastRecord = Environment.TickCount64;
        var positions = new Dictionary<int, long>();
        var uncommitted = new Dictionary<int, long>();
        var retries = 0;
        try
        {
            while (true)
            {
                if (member.RejoinNeeded)
                {
                    // What was printed is committed after every poll; a commit that lost the race with the
                    // rebalance is dropped and those records come again (at least once).
                    uncommitted.Clear();
                    await member.JoinAsync(cancellationToken);
                    topic = await client.GetTopicAsync(settings.Topic, allowAutoCreate: false, cancellationToken);
                    positions = await member.StartPositionsAsync(topic, settings.FromBeginning ? OffsetSpec.Earliest : OffsetSpec.Latest, cancellationToken);
                }

                var wait = s_pollWait;
                if (settings.IdleTimeout is { } idle)
                {
                    var left = TimeSpan.FromMilliseconds(lastRecord + (long)idle.TotalMilliseconds - Environment.TickCount64);
                    if (left <= TimeSpan.Zero) return ExitCodes.Ok;
                    if (left < wait) wait = left;
                }
                if (positions.Count == 0)
                {
                    // More members than partitions: stay in the group, idle, until a rebalance gives us some.
                    await Task.Delay(wait, cancellationToken);
                    member.ThrowIfHeartbeatFailed();
                    if (output.ReaderGone()) return ExitCodes.Ok;
                    continue;
                }

                var fetched = await client.FetchAsync(topic, positions, wait, cancellationToken: cancellationToken);
                var refresh = false;
                var printed = false;
                foreach (var part in fetched)
                {
                    if (part.ErrorCode == KafkaErrors.OffsetOutOfRange)
                    {
                        var spec = settings.FromBeginning ? OffsetSpec.Earliest : OffsetSpec.Latest;
                        var reset = await client.ListOffsetsAsync(topic, [part.Partition], spec, cancellationToken);
                        Console.Error.WriteLine($"edgestream: offset {positions[part.Partition]} of partition {part.Partition} is out of range; continuing at {reset[part.Partition]}");
                        positions[part.Partition] = reset[part.Partition];
                        continue;
                    }
                    if (part.ErrorCode != 0)
                    {
                        KafkaErrors.RetryOrThrow(part.ErrorCode, ref retries, topic.Name, part.Partition);
                        refresh = true;
                        continue;
                    }
                    foreach (var record in part.Records)
                    {
                        if (!Write(output, json, settings.Json, part.Partition, record)) return ExitCodes.Ok; // the reader went away
                        positions[part.Partition] = uncommitted[part.Partition] = record.Offset + 1;
                        lastRecord = Environment.TickCount64;
                        printed = true;
                        if (--remaining == 0) return ExitCodes.Ok;
                    }
                    positions[part.Partition] = part.NextOffset;
                }
                if (uncommitted.Count > 0 && !member.RejoinNeeded)
                {
                    await member.CommitAsync(uncommitted, cancellationToken);
                    uncommitted.Clear();
                }
                member.ThrowIfHeartbeatFailed();
                if (!printed && output.ReaderGone()) return ExitCodes.Ok;
                if (refresh)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
                    topic = await client.GetTopicAsync(settings.Topic, allowAutoCreate: false, cancellationToken);
                }
                else retries = 0;
            }
        }
        finally
        {
            // Runs on Ctrl-C too, so it gets its own deadline rather than the cancelled token.
            using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                if (uncommitted.Count > 0 && !member.RejoinNeeded) await member.CommitAsync(uncommitted, shutdown.Token);
            }
            catch (Exception ex) when (ex is KafkaClientException or OperationCanceledException)
            {
                Console.Error.WriteLine($"edgestream: could not commit the last offsets of group '{settings.Group}': {ex.Message}");
            }
            await member.LeaveAsync(shutdown.Token);
        }
    }

    private static readonly JsonWriterOptions s_jsonOptions = new()
    {
        // Readable non-ASCII text in a terminal or pipe; the output is never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static bool Write(LineOutput output, ArrayBufferWriter<byte> buffer, bool json, int partition, Record record)
    {
        if (!json) return output.TryWriteLine(record.Value is { } v ? v.Span : default);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, s_jsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("partition", partition);
            writer.WriteNumber("offset", record.Offset);
            writer.WriteNumber("timestamp", record.Timestamp);
            writer.WritePropertyName("key");
            WriteBytes(writer, record.Key);
            writer.WritePropertyName("value");
            WriteBytes(writer, record.Value);
            writer.WriteStartArray("headers");
            foreach (var h in record.Headers)
            {
                writer.WriteStartObject();
                writer.WriteString("key", h.Key);
                writer.WritePropertyName("value");
                WriteBytes(writer, h.Value);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return output.TryWriteLine(buffer.WrittenSpan);
    }

    /// <summary>null stays null; valid UTF-8 is a JSON string; anything else is {"base64":"..."}.</summary>
    private static void WriteBytes(Utf8JsonWriter writer, ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } b) writer.WriteNullValue();
        else if (Utf8.IsValid(b.Span)) writer.WriteStringValue(b.Span);
        else
        {
            writer.WriteStartObject();
            writer.WriteBase64String("base64", b.Span);
            writer.WriteEndObject();
        }
    }
}
