using System.CommandLine;
using EdgeStream.Agent.Commands;
using EdgeStream.Hosting;

// edgestream: one binary for edge, gateway and cloud nodes. Verbs: run, fsck, version; topics, groups, produce, consume (a Kafka client); members (the mesh, from a node's status); send, receive, files (files as chunk records); cdc; certs (a fleet CA and node certificates).
var root = new RootCommand("EdgeStream: one agent for edge, gateway and cloud nodes (Kafka and MQTT at the edge, forwarded upstream).");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(FsckCommand.Create());
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(TopicsCommand.Create());
root.Subcommands.Add(GroupsCommand.Create());
root.Subcommands.Add(ProduceCommand.Create());
root.Subcommands.Add(ConsumeCommand.Create());
root.Subcommands.Add(MembersCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(TopCommand.Create());
root.Subcommands.Add(SendCommand.Create());
root.Subcommands.Add(ReceiveCommand.Create());
root.Subcommands.Add(FilesCommand.Create());
root.Subcommands.Add(CdcCommand.Create());
root.Subcommands.Add(CertsCommand.Create());
root.Subcommands.Add(UsersCommand.Create());
root.Subcommands.Add(AclsCommand.Create());
root.Subcommands.Add(NodesCommand.Create());
root.SetAction(_ =>
{
    Console.Error.WriteLine("edgestream: a command is required: run, fsck, version, topics, groups, produce, consume, members, status, top, send, receive, files, cdc, certs, users, acls or nodes. See 'edgestream --help'.");
    return ExitCodes.Usage;
});

var parseResult = root.Parse(args);
if (parseResult.Errors.Count > 0)
{
    foreach (var error in parseResult.Errors)
        Console.Error.WriteLine($"edgestream: {error.Message}");
    Console.Error.WriteLine(parseResult.CommandResult.Command is RootCommand ? "Try 'edgestream --help'." : $"Try 'edgestream {parseResult.CommandResult.Command.Name} --help'.");
    return ExitCodes.Usage;
}

// The host handles SIGTERM/SIGINT itself (clean shutdown, exit 0); the parser must not race it.
return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
