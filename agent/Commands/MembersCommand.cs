using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeStream.Hosting;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream members [--http HOST:PORT] [--format table|json]</c>: the mesh members a running node
/// knows and its current parent, read from that node's <c>/v1/status</c> (its <c>mesh</c> object).
/// </summary>
internal static class MembersCommand
{
    public static Command Create()
    {
        var command = new Command("members", "Print the mesh members a running node knows (node id, role, scope, address, state, incarnation, last heard, backlog, children, parent) and its own parent.");
        var http = StatusClient.HttpOption();
        var format = StatusClient.FormatOption("mesh");
        command.Options.Add(http);
        command.Options.Add(format);
        command.SetAction((parseResult, ct) => RunAsync(parseResult.GetValue(http)!, parseResult.GetValue(format)!, Console.Out, ct));
        return command;
    }

    internal static async Task<int> RunAsync(string http, string format, TextWriter output, CancellationToken ct)
    {
        if (await StatusClient.GetSectionAsync(http, "mesh", "members", "reports no mesh", ct) is not { } mesh) return ExitCodes.Failure;
        if (format == "json") return await StatusClient.WriteJsonAsync(mesh, ct);
        WriteTable(mesh, output);
        return ExitCodes.Ok;
    }

    internal static void WriteTable(JsonElement mesh, TextWriter o)
    {
        o.WriteLine($"cluster {Text(mesh, "cluster")}, gossip {Text(mesh, "gossip")}");
        o.WriteLine();
        const string row = "{0,-24} {1,-8} {2,-9} {3,-22} {4,-8} {5,6} {6,-24} {7,14} {8,8} {9}";
        o.WriteLine(string.Format(CultureInfo.InvariantCulture, row, "NODE", "ROLE", "SCOPE", "ADDRESS", "STATE", "INC", "LAST-HEARD", "BACKLOG-BYTES", "CHILDREN", "PARENT"));
        foreach (var m in mesh.GetProperty("members").EnumerateArray())
        {
            var load = m.GetProperty("load");
            o.WriteLine(string.Format(CultureInfo.InvariantCulture, row, Text(m, "nodeId"), Text(m, "role"), Text(m, "scope"), Text(m, "address"), Text(m, "state"),
                m.GetProperty("incarnation").GetInt64(), Text(m, "lastHeard"), load.GetProperty("backlogBytes").GetInt64(), load.GetProperty("children").GetInt32(),
                Text(m, "parent") is { Length: > 0 } p ? p : "-"));
        }
        o.WriteLine();
        var parent = mesh.GetProperty("parent");
        var id = Text(parent, "nodeId");
        var address = Text(parent, "address");
        o.WriteLine(id.Length == 0 && address.Length == 0
            ? $"parent  none ({Text(parent, "reason")})"
            : $"parent  {(id.Length > 0 ? id : "?")} at {(address.Length > 0 ? address : "?")} since {Text(parent, "since")}: {Text(parent, "reason")}");
    }

    private static string Text(JsonElement e, string name) => StatusClient.Text(e, name);
}
