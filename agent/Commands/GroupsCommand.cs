using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using EdgeStream.Hosting;
using EdgeStream.Kafka.Client;

namespace EdgeStream.Agent.Commands;

/// <summary><c>edgestream groups list|describe|reset-offsets|delete</c>: consumer-group administration over the Kafka protocol.</summary>
internal static class GroupsCommand
{
    public static Command Create()
    {
        var command = new Command("groups", "List, describe, delete consumer groups and reset their committed offsets, on any Kafka-compatible broker.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Describe());
        command.Subcommands.Add(ResetOffsets());
        command.Subcommands.Add(Delete());
        command.SetAction(_ => KafkaCli.UsageError("groups needs a command: list, describe, reset-offsets or delete. See 'edgestream groups --help'."));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "Print the id of every consumer group, one per line, sorted.");
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) => KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
        {
            foreach (var g in await client.ListGroupsAsync(ct)) Console.Out.WriteLine(g.GroupId);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Argument<string> GroupArgument() => new("GROUP") { Description = "Consumer group id." };

    private sealed record PartitionRow(string Topic, int Partition, long? Committed, long LogEnd, long? Lag, GroupMemberInfo? Member);

    private static Command Describe()
    {
        var command = new Command("describe", "Show a group's state and members (client id, host, assigned partitions) and, per partition, the committed offset, log end offset and lag.");
        var group = GroupArgument();
        var format = new Option<string>("--format", "-f") { Description = "table or json", HelpName = "table|json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        command.Arguments.Add(group);
        command.Options.Add(format);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) => KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
        {
            var id = parseResult.GetValue(group)!;
            var description = await client.DescribeGroupAsync(id, ct);
            var committed = await client.FetchCommittedOffsetsAsync(id, null, ct);
            if (description.State == "Dead" && committed.Count == 0)
                throw new KafkaClientException($"group '{id}' does not exist", KafkaErrors.GroupIdNotFound);

            // One row per partition the group has committed or a member holds.
            var owner = new Dictionary<(string, int), GroupMemberInfo>();
            foreach (var m in description.Members)
                foreach (var (topic, partitions) in m.Assignment)
                    foreach (var p in partitions) owner[(topic, p)] = m;
            var keys = new SortedSet<(string Topic, int Partition)>(Comparer<(string Topic, int Partition)>.Create((a, b) =>
                a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic)));
            var offsets = new Dictionary<(string, int), long>();
            foreach (var c in committed)
            {
                keys.Add((c.Topic, c.Partition));
                if (c.Offset >= 0) offsets[(c.Topic, c.Partition)] = c.Offset;
            }
            foreach (var k in owner.Keys) keys.Add(k);

            var ends = new Dictionary<(string, int), long>();
            foreach (var topicName in keys.Select(k => k.Topic).Distinct())
            {
                TopicDescription topic;
                try { topic = await client.GetTopicAsync(topicName, allowAutoCreate: false, ct); }
                catch (KafkaClientException ex) when (ex.ErrorCode == KafkaErrors.UnknownTopicOrPartition) { continue; } // deleted since
                var wanted = keys.Where(k => k.Topic == topicName && k.Partition < topic.PartitionCount).Select(k => k.Partition).ToList();
                foreach (var (p, end) in await client.ListOffsetsAsync(topic, wanted, OffsetSpec.Latest, ct)) ends[(topicName, p)] = end;
            }
            var rows = new List<PartitionRow>(keys.Count);
            foreach (var k in keys)
            {
                long? c = offsets.TryGetValue(k, out var o) ? o : null;
                var end = ends.TryGetValue(k, out var e) ? e : -1;
                long? lag = c is { } v && end >= 0 ? Math.Max(0, end - v) : null;
                rows.Add(new PartitionRow(k.Topic, k.Partition, c, end, lag, owner.GetValueOrDefault(k)));
            }

            if (parseResult.GetValue(format) == "json") WriteJson(description, rows);
            else WriteTable(description, rows);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void WriteTable(GroupDescription group, List<PartitionRow> rows)
    {
        var o = Console.Out;
        var protocol = group.ProtocolType.Length == 0 ? "-" : group.Protocol.Length == 0 ? group.ProtocolType : $"{group.ProtocolType}/{group.Protocol}";
        o.WriteLine($"group     {group.GroupId}");
        o.WriteLine($"state     {group.State}");
        o.WriteLine($"protocol  {protocol}");
        o.WriteLine($"members   {group.Members.Count}");
        if (group.Members.Count > 0)
        {
            o.WriteLine();
            var memberWidth = Math.Max(6, group.Members.Max(m => m.MemberId.Length));
            var clientWidth = Math.Max(9, group.Members.Max(m => m.ClientId.Length));
            var hostWidth = Math.Max(4, group.Members.Max(m => m.ClientHost.Length));
            o.WriteLine($"{"MEMBER".PadRight(memberWidth)}  {"CLIENT-ID".PadRight(clientWidth)}  {"HOST".PadRight(hostWidth)}  PARTITIONS");
            foreach (var m in group.Members)
            {
                var assigned = m.Assignment.Count == 0 ? "-" : string.Join(' ', m.Assignment.Select(a => $"{a.Topic}:{string.Join(',', a.Partitions)}"));
                o.WriteLine($"{m.MemberId.PadRight(memberWidth)}  {m.ClientId.PadRight(clientWidth)}  {m.ClientHost.PadRight(hostWidth)}  {assigned}");
            }
        }
        o.WriteLine();
        if (rows.Count == 0)
        {
            o.WriteLine("(no committed offsets and no assigned partitions)");
            return;
        }
        var topicWidth = Math.Max(5, rows.Max(r => r.Topic.Length));
        o.WriteLine($"{"TOPIC".PadRight(topicWidth)}  {"PARTITION",9}  {"COMMITTED",12}  {"LOG-END",12}  {"LAG",10}  MEMBER");
        foreach (var r in rows)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Topic.PadRight(topicWidth)}  {r.Partition,9}  {Dash(r.Committed),12}  {Dash(r.LogEnd >= 0 ? r.LogEnd : null),12}  {Dash(r.Lag),10}  {r.Member?.MemberId ?? "-"}"));
        }
    }

    private static string Dash(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static void WriteJson(GroupDescription group, List<PartitionRow> rows)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("group", group.GroupId);
            w.WriteString("state", group.State);
            w.WriteString("protocolType", group.ProtocolType);
            w.WriteString("protocol", group.Protocol);
            w.WriteStartArray("members");
            foreach (var m in group.Members)
            {
                w.WriteStartObject();
                w.WriteString("memberId", m.MemberId);
                if (m.GroupInstanceId is null) w.WriteNull("groupInstanceId");
                else w.WriteString("groupInstanceId", m.GroupInstanceId);
                w.WriteString("clientId", m.ClientId);
                w.WriteString("host", m.ClientHost);
                w.WriteStartArray("assignment");
                foreach (var (topic, partitions) in m.Assignment)
                {
                    w.WriteStartObject();
                    w.WriteString("topic", topic);
                    w.WriteStartArray("partitions");
                    foreach (var p in partitions) w.WriteNumberValue(p);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("partitions");
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("topic", r.Topic);
                w.WriteNumber("partition", r.Partition);
                WriteNullable(w, "committedOffset", r.Committed);
                WriteNullable(w, "logEndOffset", r.LogEnd >= 0 ? r.LogEnd : null);
                WriteNullable(w, "lag", r.Lag);
                if (r.Member is null) w.WriteNull("memberId");
                else w.WriteString("memberId", r.Member.MemberId);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static Command ResetOffsets()
    {
        var command = new Command("reset-offsets", "Set a group's committed offsets for every partition of a topic. The group must have no active members (stop its consumers first).");
        var group = GroupArgument();
        var topicOption = new Option<string>("--topic", "-t") { Description = "Topic whose offsets to reset (required).", HelpName = "TOPIC", Required = true };
        var toEarliest = new Option<bool>("--to-earliest") { Description = "Reset to the start of each partition." };
        var toLatest = new Option<bool>("--to-latest") { Description = "Reset to the end of each partition (skip everything there now)." };
        var toOffset = new Option<long?>("--to-offset") { Description = "Reset every partition to this offset (kept within each partition's start and end).", HelpName = "N" };
        command.Arguments.Add(group);
        command.Options.Add(topicOption);
        command.Options.Add(toEarliest);
        command.Options.Add(toLatest);
        command.Options.Add(toOffset);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) =>
        {
            var id = parseResult.GetValue(group)!;
            var topicName = parseResult.GetValue(topicOption)!;
            var earliest = parseResult.GetValue(toEarliest);
            var latest = parseResult.GetValue(toLatest);
            var offset = parseResult.GetValue(toOffset);
            var chosen = (earliest ? 1 : 0) + (latest ? 1 : 0) + (offset is null ? 0 : 1);
            if (chosen != 1) return Task.FromResult(KafkaCli.UsageError("reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset N"));
            if (offset is < 0) return Task.FromResult(KafkaCli.UsageError("--to-offset must be 0 or more"));
            return KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
            {
                // Kafka's tool refuses too: members would overwrite the reset with their next commit.
                var description = await client.DescribeGroupAsync(id, ct);
                if (description.State is not ("Empty" or "Dead") || description.Members.Count > 0)
                    throw new KafkaClientException($"cannot reset offsets of group '{id}': it has {description.Members.Count} active member(s) (state {description.State}); stop its consumers first");
                var topic = await client.GetTopicAsync(topicName, allowAutoCreate: false, ct);
                var partitions = topic.Partitions.Select(p => p.Index).ToList();
                var starts = await client.ListOffsetsAsync(topic, partitions, OffsetSpec.Earliest, ct);
                var ends = await client.ListOffsetsAsync(topic, partitions, OffsetSpec.Latest, ct);
                var target = new Dictionary<int, long>();
                foreach (var p in partitions)
                    target[p] = earliest ? starts[p] : latest ? ends[p] : Math.Clamp(offset!.Value, starts[p], ends[p]);
                await client.CommitOffsetsAsync(id, topic.Name, target, ct);
                var topicWidth = Math.Max(5, topic.Name.Length);
                Console.Out.WriteLine($"{"TOPIC".PadRight(topicWidth)}  {"PARTITION",9}  {"NEW-OFFSET",12}");
                foreach (var p in partitions)
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{topic.Name.PadRight(topicWidth)}  {p,9}  {target[p],12}"));
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command Delete()
    {
        var command = new Command("delete", "Delete a consumer group and its committed offsets. The group must have no active members.");
        var group = GroupArgument();
        command.Arguments.Add(group);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) => KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
        {
            var id = parseResult.GetValue(group)!;
            await client.DeleteGroupAsync(id, ct);
            Console.Out.WriteLine($"deleted group '{id}'");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
