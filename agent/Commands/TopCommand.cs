using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeStream.Hosting;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream top [--http HOST:PORT]</c>: a live terminal view of a running node and the nodes below
/// it: records in and sent per second, each link's state and lag, disk. Refreshes every second from
/// <c>/v1/status</c>; q or Ctrl-C quits.
/// </summary>
internal static class TopCommand
{
    public static Command Create()
    {
        var command = new Command("top", "Live view of a running node and the nodes below it: rates, lag per link, disk. q or Ctrl-C quits.");
        var http = StatusClient.HttpOption();
        var count = new Option<int>("--count")
        {
            Description = "Stop after this many refreshes (0: until q or Ctrl-C) [default: 0]",
            HelpName = "N",
            DefaultValueFactory = _ => 0,
        };
        command.Options.Add(http);
        command.Options.Add(count);
        command.SetAction((parseResult, ct) => RunAsync(parseResult.GetValue(http)!, parseResult.GetValue(count), ct));
        return command;
    }

    internal static async Task<int> RunAsync(string http, int count, CancellationToken ct)
    {
        var first = await StatusClient.GetSectionAsync(http, "fleet", "top", "reports no fleet (an older version?)", ct);
        if (first is not { } fleet) return ExitCodes.Failure;
        var rates = new Rates();
        // Piped (a log, a test): no terminal width to fit, so do not wrap node ids at 80 columns.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        using var quit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var keys = Console.IsInputRedirected ? Task.CompletedTask : WatchKeysAsync(quit);
        var refreshes = 0;
        await AnsiConsole.Live(Render(http, fleet, rates)).AutoClear(false).StartAsync(async live =>
        {
            while (!quit.IsCancellationRequested && (count <= 0 || ++refreshes < count))
            {
                try { await Task.Delay(TimeSpan.FromSeconds(1), quit.Token); }
                catch (OperationCanceledException) { break; }
                var next = await StatusClient.GetSectionAsync(http, "fleet", "top", "reports no fleet", quit.Token);
                live.UpdateTarget(next is { } f ? Render(http, f, rates) : new Markup($"[red]cannot read {Markup.Escape(http)}[/]"));
                live.Refresh();
            }
        });
        await quit.CancelAsync();
        await keys;
        return ExitCodes.Ok;
    }

    // q quits; Ctrl-C cancels the command's token (System.CommandLine) and so the view.
    private static async Task WatchKeysAsync(CancellationTokenSource quit)
    {
        while (!quit.IsCancellationRequested)
        {
            if (Console.KeyAvailable && Console.ReadKey(intercept: true).Key == ConsoleKey.Q)
            {
                await quit.CancelAsync();
                return;
            }
            try { await Task.Delay(100, quit.Token); }
            catch (OperationCanceledException) { return; }
        }
    }

    private static IRenderable Render(string http, JsonElement fleet, Rates rates)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("NODE", "ROLE", "STATE", "LINK", "IN/s", "SENT/s", "LAG", "LAG-AGE", "DISK", "DROPPED");
        foreach (var c in table.Columns.Skip(4)) c.RightAligned();
        table.Columns[0].NoWrap();
        var rows = FleetTree.Rows(fleet);
        var down = 0;
        foreach (var r in rows)
        {
            var n = r.Node;
            var id = StatusClient.Text(n, "nodeId");
            var (inRate, sentRate) = rates.Update(id, n.GetProperty("recordsIn").GetInt64(), n.GetProperty("recordsSent").GetInt64());
            var state = StatusClient.Text(n, "state");
            var link = FleetTree.Link(n);
            if (link == "down" || state == "stale") down++;
            table.AddRow(
                new Markup(Markup.Escape(r.Prefix + id)),
                new Text(StatusClient.Text(n, "role")),
                new Markup(state == "ok" ? "[green]ok[/]" : $"[red]{Markup.Escape(state)}[/]"),
                new Markup(link switch { "up" => "[green]up[/]", "down" => "[red]down[/]", _ => "-" }),
                new Text(inRate.ToString("0", CultureInfo.InvariantCulture)),
                new Text(sentRate.ToString("0", CultureInfo.InvariantCulture)),
                new Text(n.GetProperty("backlogRecords").GetInt64().ToString(CultureInfo.InvariantCulture)),
                new Text($"{n.GetProperty("backlogAgeSeconds").GetDouble():0.0}s"),
                new Text(FleetTree.Disk(n)),
                new Text(n.GetProperty("droppedRecords").GetInt64().ToString(CultureInfo.InvariantCulture)));
        }
        var header = new Markup(
            $"[bold]edgestream top[/] {Markup.Escape(http)}  {rows.Count} node(s), "
            + (down == 0 ? "[green]all links up[/]" : $"[red]{down} down or stale[/]")
            + $"  {DateTime.Now:HH:mm:ss}  (q quits)");
        return new Rows(header, table);
    }

    /// <summary>
    /// Records per second per node, between two changes of its counters: a node below this one is heard
    /// of once per fleet report (every few seconds), so a per-refresh difference would jump between 0 and
    /// a spike. A node whose counters stay still for 15 s shows 0.
    /// </summary>
    private sealed class Rates
    {
        private readonly Dictionary<string, (long In, long Sent, long At, double InRate, double SentRate)> _last = new(StringComparer.Ordinal);

        public (double In, double Sent) Update(string node, long recordsIn, long recordsSent)
        {
            var now = Environment.TickCount64;
            if (!_last.TryGetValue(node, out var last))
            {
                _last[node] = (recordsIn, recordsSent, now, 0, 0);
                return (0, 0);
            }
            if (recordsIn == last.In && recordsSent == last.Sent)
                return now - last.At > 15_000 ? (0, 0) : (last.InRate, last.SentRate);
            var seconds = Math.Max(0.001, (now - last.At) / 1000.0);
            var rates = (Math.Max(0, recordsIn - last.In) / seconds, Math.Max(0, recordsSent - last.Sent) / seconds);
            _last[node] = (recordsIn, recordsSent, now, rates.Item1, rates.Item2);
            return rates;
        }
    }
}
