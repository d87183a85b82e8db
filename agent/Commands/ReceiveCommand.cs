using System.CommandLine;
using EdgeStream.Files;
using EdgeStream.Files.Receiving;
using EdgeStream.Files.Sending;
using EdgeStream.Hosting;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream receive --dir DIR</c>: a standalone files receiver against any Kafka-compatible broker
/// (<see cref="FileReceiver"/>): a consumer-group member that commits only what is durable on disk. Runs
/// until Ctrl-C/SIGTERM (exit 0); a full disk or an unwritable directory exits 1 with the reason.
/// </summary>
internal static class ReceiveCommand
{
    public static Command Create()
    {
        var command = new Command("receive", "Receive files sent with 'edgestream send': materialize them under DIR/{origin}/{path} as they complete, verified, committing offsets only after the data is on disk.");
        var dir = new Option<string>("--dir", "-d") { Description = "Directory to write files into.", HelpName = "DIR", Required = true };
        var topic = new Option<string>("--topic", "-t") { Description = "Topic of the chunk records [default: files].", HelpName = "TOPIC", DefaultValueFactory = _ => FileSendOptions.DefaultTopic };
        var group = new Option<string>("--group", "-g") { Description = $"Consumer group [default: {FileReceiverOptions.DefaultGroup}].", HelpName = "G", DefaultValueFactory = _ => FileReceiverOptions.DefaultGroup };
        command.Options.Add(dir);
        command.Options.Add(topic);
        command.Options.Add(group);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) =>
        {
            var directory = parseResult.GetValue(dir)!;
            var groupId = parseResult.GetValue(group)!;
            if (string.IsNullOrWhiteSpace(directory)) return Task.FromResult(KafkaCli.UsageError("--dir must name a directory"));
            if (groupId.Length == 0) return Task.FromResult(KafkaCli.UsageError("--group must not be empty"));
            var options = new FileReceiverOptions { Directory = Path.GetFullPath(directory), Topic = parseResult.GetValue(topic)!, Group = groupId };
            return KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
            {
                try
                {
                    await new FileReceiver(client, options, new FilesStatus(options.Directory), new StderrLogger("receive")).RunAsync(ct);
                    return ExitCodes.Ok;
                }
                catch (Exception ex) when (ex is FilesException or IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"edgestream receive: {ex.Message}");
                    return ExitCodes.Failure;
                }
            });
        });
        return command;
    }
}
