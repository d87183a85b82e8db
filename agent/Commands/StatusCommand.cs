using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeStream.Hosting;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream status [--http HOST:PORT] [--format table|json]</c>: a running node and, on a gateway or
/// cloud, every node below it that reports (the <c>fleet</c> object of its <c>/v1/status</c>), as a tree.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Print a running node and the nodes below it (role, state, last heard, link to parent, backlog, disk, drops, last error).");
        var http = StatusClient.HttpOption();
        var format = StatusClient.FormatOption("fleet");
        command.Options.Add(http);
        command.Options.Add(format);
        command.SetAction((parseResult, ct) => RunAsync(parseResult.GetValue(http)!, parseResult.GetValue(format)!, Console.Out, ct));
        return command;
    }

    internal static async Task<int> RunAsync(string http, string format, TextWriter output, CancellationToken ct)
    {
        if (await StatusClient.GetSectionAsync(http, "fleet", "status", "reports no fleet (an older version?)", ct) is not { } fleet) return ExitCodes.Failure;
        if (format == "json") return await StatusClient.WriteJsonAsync(fleet, ct);
        WriteTable(fleet, output);
        return ExitCodes.Ok;
    }

    internal static void WriteTable(JsonElement fleet, TextWriter o)
    {
        const string row = "{0,-32} {1,-8} {2,-6} {3,10} {4,-5} {5,12} {6,12} {7,9} {8,-24} {9,9} {10}";
        o.WriteLine(string.Format(CultureInfo.InvariantCulture, row, "NODE", "ROLE", "STATE", "HEARD", "LINK", "LAG-RECORDS", "LAG-BYTES", "LAG-AGE", "DISK", "DROPPED", "LAST-ERROR"));
        foreach (var r in FleetTree.Rows(fleet))
        {
            var n = r.Node;
            o.WriteLine(string.Format(CultureInfo.InvariantCulture, row,
                r.Prefix + StatusClient.Text(n, "nodeId"), StatusClient.Text(n, "role"), StatusClient.Text(n, "state"),
                $"{n.GetProperty("lastHeardSecondsAgo").GetDouble():0.0}s ago", FleetTree.Link(n),
                n.GetProperty("backlogRecords").GetInt64(), FleetTree.Bytes(n.GetProperty("backlogBytes").GetInt64()),
                $"{n.GetProperty("backlogAgeSeconds").GetDouble():0.0}s", FleetTree.Disk(n), n.GetProperty("droppedRecords").GetInt64(),
                StatusClient.Text(n, "lastError") is { Length: > 0 } e ? e : "-"));
        }
    }
}
