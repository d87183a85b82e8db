using System.CommandLine;
using EdgeStream.Files;
using EdgeStream.Files.Sending;
using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream send PATH...</c>: files as chunk records in a topic (<see cref="FileSender"/>), resumable,
/// to the local edge or any Kafka broker. Exit 0 when every file was sent (or was unchanged since it was),
/// 1 when some failed (each named on stderr) or the run was interrupted, 2 on usage errors.
/// </summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var command = new Command("send", "Send files (a directory recursively) as chunk records, resumable: run the same command again after an interruption and only unacknowledged chunks are sent.");
        var paths = new Argument<string[]>("PATH") { Description = "Files or directories to send (symbolic links are not followed).", Arity = ArgumentArity.OneOrMore };
        var topic = new Option<string>("--topic", "-t") { Description = "Topic of the chunk records [default: files].", HelpName = "TOPIC", DefaultValueFactory = _ => FileSendOptions.DefaultTopic };
        var chunk = new Option<string>("--chunk") { Description = "Chunk size, 4KiB-16MiB (lowered to fit the topic's max.message.bytes) [default: 512KiB].", HelpName = "SIZE", DefaultValueFactory = _ => "512KiB" };
        var asName = new Option<string>("--as") { Description = "Send the one PATH under this relative name instead of its own.", HelpName = "NAME" };
        var json = new Option<bool>("--json") { Description = "Progress as JSON lines (events started, resumed, unchanged, progress, completed, failed, summary)." };
        var state = new Option<string>("--state") { Description = "Directory of the resume state [default: $XDG_STATE_HOME/edgestream/send or ~/.local/state/edgestream/send].", HelpName = "DIR" };
        var window = new Option<int>("--window") { Description = "Produce requests in flight, 1-64 [default: 8].", HelpName = "N", DefaultValueFactory = _ => 8 };
        command.Arguments.Add(paths);
        command.Options.Add(topic);
        command.Options.Add(chunk);
        command.Options.Add(asName);
        command.Options.Add(json);
        command.Options.Add(state);
        command.Options.Add(window);
        var bootstrap = KafkaCli.AddBootstrapOption(command);
        command.SetAction((parseResult, _) =>
        {
            // The sender holds a fixed window of buffers and nothing else of size: a large gen0 budget (the runtime sizes
            // it from the CPU cache, 25+ MB here) would only be garbage kept in RSS. The small profile's GC settings keep
            // its memory flat whatever the number of files; throughput is set by the broker's acknowledgements anyway.
            GcSettingsRestart.ApplyOrContinue(MemoryProfiles.GcEnvironment(MemoryProfile.Small, 0), Console.Error);
            if (!ByteSize.TryParse(parseResult.GetValue(chunk), out var chunkBytes) || chunkBytes is < 4096 or > 16 * 1024 * 1024)
                return Task.FromResult(KafkaCli.UsageError("--chunk must be a size from 4KiB to 16MiB"));
            var windowSize = parseResult.GetValue(window);
            if (windowSize is < 1 or > 64) return Task.FromResult(KafkaCli.UsageError("--window must be from 1 to 64"));
            SendSources sources;
            try { sources = SendSourceScanner.Scan(parseResult.GetValue(paths)!, parseResult.GetValue(asName)); }
            catch (FilesException ex) { return Task.FromResult(KafkaCli.UsageError(ex.Message)); }
            var options = new FileSendOptions
            {
                Topic = parseResult.GetValue(topic)!,
                ChunkSize = (int)chunkBytes,
                Window = windowSize,
                StateDirectory = parseResult.GetValue(state) ?? SendStateStore.DefaultDirectory(),
            };
            PlainSendProgress progress = parseResult.GetValue(json) ? new JsonSendProgress()
                : Console.IsOutputRedirected ? new PlainSendProgress(Console.Out) : new TerminalSendProgress();
            foreach (var link in sources.SymlinksSkipped) Console.Error.WriteLine($"edgestream send: {link}: a symbolic link, not followed, skipped");
            foreach (var (path, reason) in sources.Refused) Console.Error.WriteLine($"edgestream send: {path}: {reason}");
            return KafkaCli.RunAsync(parseResult, bootstrap, async (client, ct) =>
            {
                try
                {
                    var summary = await new FileSender(client, options, progress).SendAsync(sources.Files, ct);
                    progress.Finished(summary);
                    return summary.Failed == 0 && sources.Refused.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    Console.Error.WriteLine("edgestream send: interrupted; run the same command again to send the rest");
                    return ExitCodes.Failure;
                }
                catch (Exception ex) when (ex is FilesException or IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"edgestream send: {ex.Message}");
                    return ExitCodes.Failure;
                }
            });
        });
        return command;
    }
}
