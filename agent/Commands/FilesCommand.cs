using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeStream.Hosting;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream files [--http HOST:PORT] [--format table|json]</c>: the files a running node with
/// <c>--files-dir</c> has in flight and has completed, per origin, from its <c>/v1/status</c> (<c>files</c>).
/// </summary>
internal static class FilesCommand
{
    public static Command Create()
    {
        var command = new Command("files", "Print the files a running node (with --files-dir) is receiving and has completed, per origin: progress, rate, state.");
        var http = StatusClient.HttpOption();
        var format = StatusClient.FormatOption("files");
        command.Options.Add(http);
        command.Options.Add(format);
        command.SetAction(async (parseResult, ct) =>
        {
            var http1 = parseResult.GetValue(http)!;
            if (await StatusClient.GetSectionAsync(http1, "files", "files", "does not receive files (no --files-dir)", ct) is not { } files) return ExitCodes.Failure;
            if (parseResult.GetValue(format) == "json") return await StatusClient.WriteJsonAsync(files, ct);
            WriteTable(files, Console.Out);
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static void WriteTable(JsonElement files, TextWriter o)
    {
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{StatusClient.Text(files, "directory")}: {files.GetProperty("filesCompleted").GetInt64()} completed ({ByteSize.Format(files.GetProperty("bytesCompleted").GetInt64())}), {files.GetProperty("badChunks").GetInt64()} bad chunks, {files.GetProperty("rejectedRecords").GetInt64()} records rejected"));
        if (StatusClient.Text(files, "lastError") is { Length: > 0 } error) o.WriteLine($"last error: {error}");
        const string row = "{0,-20} {1,-12} {2,7} {3,12} {4,12} {5,12}  {6}";
        o.WriteLine();
        o.WriteLine(string.Format(CultureInfo.InvariantCulture, row, "ORIGIN", "STATE", "DONE", "SIZE", "RATE/s", "UPDATED", "PATH"));
        foreach (var origin in files.GetProperty("origins").EnumerateArray())
        {
            var name = StatusClient.Text(origin, "origin");
            foreach (var list in (string[])["inFlight", "completed"])
                foreach (var f in origin.GetProperty(list).EnumerateArray())
                {
                    var size = f.GetProperty("size").GetInt64();
                    var received = f.GetProperty("received").GetInt64();
                    var percent = size == 0 ? 100 : received * 100.0 / size;
                    var updated = f.GetProperty("updatedAt").GetDateTimeOffset().ToUniversalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
                    o.WriteLine(string.Format(CultureInfo.InvariantCulture, row, name, StatusClient.Text(f, "state"), $"{percent:0.0}%",
                        ByteSize.Format(size), ByteSize.Format(f.GetProperty("bytesPerSecond").GetInt64()), updated, StatusClient.Text(f, "path")));
                }
        }
    }
}
