using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeStream.Hosting;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream cdc status [--http HOST:PORT] [--format table|json]</c>: the CDC sources of a running
/// node (state, slot, confirmed LSN, lag, rows), read from its <c>/v1/status</c> (<c>cdc</c> array).
/// </summary>
internal static class CdcCommand
{
    public static Command Create()
    {
        var command = new Command("cdc", "Change data capture from PostgreSQL.");
        var status = new Command("status", "Print a running node's CDC sources: state (snapshotting, streaming, reconnecting, failed and why), slot, confirmed LSN, lag in bytes and seconds, rows captured.");
        var http = StatusClient.HttpOption();
        var format = StatusClient.FormatOption("cdc");
        status.Options.Add(http);
        status.Options.Add(format);
        status.SetAction((parseResult, ct) => StatusAsync(parseResult.GetValue(http)!, parseResult.GetValue(format)!, Console.Out, ct));
        command.Subcommands.Add(status);
        return command;
    }

    internal static async Task<int> StatusAsync(string http, string format, TextWriter output, CancellationToken ct)
    {
        if (await StatusClient.GetSectionAsync(http, "cdc", "cdc status", "has no CDC source (--cdc)", ct) is not { } cdc) return ExitCodes.Failure;
        if (format == "json") return await StatusClient.WriteJsonAsync(cdc, ct);
        const string row = "{0,-16} {1,-13} {2,-24} {3,-14} {4,14} {5,9} {6,12} {7}";
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, row, "SOURCE", "STATE", "SLOT", "CONFIRMED-LSN", "LAG-BYTES", "LAG-S", "ROWS", "DETAIL"));
        foreach (var s in cdc.EnumerateArray())
        {
            var detail = Text(s, "reason");
            if (Text(s, "snapshotTable") is { Length: > 0 } table) detail = $"snapshot {table}, {s.GetProperty("snapshotRows").GetInt64()} rows, {s.GetProperty("snapshotTablesPending").GetInt32()} table(s) to go";
            if (s.GetProperty("slotLagExceeded").GetBoolean()) detail = ("slot lag over maxSlotLag " + detail).Trim();
            output.WriteLine(string.Format(CultureInfo.InvariantCulture, row, Text(s, "name"), Text(s, "state"), Text(s, "slot"), Text(s, "confirmedLsn"),
                s.GetProperty("lagBytes").GetInt64(), s.GetProperty("lagSeconds").GetDouble().ToString("0.0", CultureInfo.InvariantCulture), s.GetProperty("rows").GetInt64(), detail));
        }
        return ExitCodes.Ok;
    }

    private static string Text(JsonElement e, string name) => StatusClient.Text(e, name);
}
