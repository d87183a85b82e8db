using System.CommandLine;
using System.Globalization;
using EdgeStream.Hosting;
using EdgeStream.Kafka.Client;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Agent.Commands;

/// <summary><c>edgestream topics list|create|delete|describe</c>: topic administration over the Kafka protocol.</summary>
internal static class TopicsCommand
{
    public static Command Create()
    {
        var command = new Command("topics", "List, create, delete and describe topics on any Kafka-compatible broker.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(CreateTopic());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(Describe());
        command.SetAction(_ => KafkaCli.UsageError("topics needs a command: list, create, delete or describe. See 'edgestream topics --help'."));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "Print the name of every topic, one per line, sorted.");
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) => KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
        {
            foreach (var name in await client.ListTopicsAsync(ct)) Console.Out.WriteLine(name);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateTopic()
    {
        var command = new Command("create", "Create a topic.");
        var name = new Argument<string>("NAME") { Description = "Topic name." };
        var partitions = new Option<int?>("--partitions") { Description = "Number of partitions [default: the broker's]", HelpName = "N" };
        var replication = new Option<short?>("--replication-factor") { Description = "Replicas per partition [default: the broker's]", HelpName = "N" };
        var configs = new Option<string[]>("--config")
        {
            Description = "A topic config, e.g. retention.ms=3600000 (repeatable)",
            HelpName = "KEY=VALUE",
            AllowMultipleArgumentsPerToken = false,
        };
        command.Arguments.Add(name);
        command.Options.Add(partitions);
        command.Options.Add(replication);
        command.Options.Add(configs);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) =>
        {
            var topic = parseResult.GetValue(name)!;
            var count = parseResult.GetValue(partitions);
            if (count is < 1) return Task.FromResult(KafkaCli.UsageError("--partitions must be at least 1"));
            var factor = parseResult.GetValue(replication);
            if (factor is < 1) return Task.FromResult(KafkaCli.UsageError("--replication-factor must be at least 1"));
            var pairs = new List<KeyValuePair<string, string>>();
            foreach (var entry in parseResult.GetValue(configs) ?? [])
            {
                var eq = entry.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) return Task.FromResult(KafkaCli.UsageError($"--config '{entry}' is not KEY=VALUE"));
                pairs.Add(new(entry[..eq], entry[(eq + 1)..]));
            }
            return KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
            {
                var created = await client.CreateTopicAsync(topic, count ?? -1, factor ?? -1, pairs, ct);
                Console.Out.WriteLine($"created topic '{topic}' with {created} partition{(created == 1 ? "" : "s")}");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command Delete()
    {
        var command = new Command("delete", "Delete a topic and all its records.");
        var name = new Argument<string>("NAME") { Description = "Topic name." };
        command.Arguments.Add(name);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) => KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
        {
            var topic = parseResult.GetValue(name)!;
            await client.DeleteTopicAsync(topic, ct);
            Console.Out.WriteLine($"deleted topic '{topic}'");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Describe()
    {
        var command = new Command("describe", "Show a topic's partitions (leader, log start and end offsets) and configs.");
        var name = new Argument<string>("NAME") { Description = "Topic name." };
        command.Arguments.Add(name);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) => KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
        {
            var topic = await client.GetTopicAsync(parseResult.GetValue(name)!, allowAutoCreate: false, ct);
            var indexes = topic.Partitions.Select(p => p.Index).ToList();
            var starts = await client.ListOffsetsAsync(topic, indexes, OffsetSpec.Earliest, ct);
            var ends = await client.ListOffsetsAsync(topic, indexes, OffsetSpec.Latest, ct);
            IReadOnlyList<TopicConfigEntry>? configs = null;
            if (await client.SupportsAsync(ApiKey.DescribeConfigs, ct))
                configs = await client.DescribeTopicConfigsAsync(topic.Name, ct);

            var o = Console.Out;
            o.WriteLine($"topic       {topic.Name}");
            if (topic.TopicId != Guid.Empty) o.WriteLine($"id          {topic.TopicId}");
            o.WriteLine($"partitions  {topic.PartitionCount}");
            o.WriteLine();
            o.WriteLine($"{"PARTITION",-10} {"LEADER",-7} {"LOG-START",-12} {"LOG-END",-12}");
            foreach (var p in topic.Partitions)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.Index,-10} {p.LeaderId,-7} {starts[p.Index],-12} {ends[p.Index],-12}"));
            o.WriteLine();
            if (configs is null) o.WriteLine("configs     (the broker does not support DescribeConfigs)");
            else
            {
                o.WriteLine("configs (* set on the topic)");
                foreach (var c in configs)
                    o.WriteLine($"  {(c.IsTopicOverride ? '*' : ' ')} {c.Name}={(c.IsSensitive ? "(sensitive)" : c.Value ?? "(null)")}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
