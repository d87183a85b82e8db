using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeStream.Hosting;

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
        using var screen = new LiveScreen(Console.Out, interactive: !Console.IsOutputRedirected);
        using var quit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Ctrl-C (SIGINT) and SIGTERM end the view like q does: the parser leaves signals to the commands, and
        // the runtime's default would kill the process with the terminal's cursor still hidden.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Quit);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Quit);
        var keys = Console.IsInputRedirected ? Task.CompletedTask : WatchKeysAsync(quit);
        var refreshes = 0;
        screen.Show(Render(http, fleet, rates));
        try
        {
            while (!quit.IsCancellationRequested && (count <= 0 || ++refreshes < count))
            {
                await Task.Delay(TimeSpan.FromSeconds(1), quit.Token);
                var next = await StatusClient.GetSectionAsync(http, "fleet", "top", "reports no fleet", quit.Token);
                screen.Show(next is { } f ? Render(http, f, rates) : [[new Span($"cannot read {http}", Style.Red)]]);
            }
        }
        catch (OperationCanceledException) when (quit.IsCancellationRequested)
        {
            // q, Ctrl-C or SIGTERM: leaving is what was asked for.
        }
        await quit.CancelAsync();
        await keys;
        return ExitCodes.Ok;

        void Quit(PosixSignalContext context)
        {
            context.Cancel = true;
            quit.Cancel();
        }
    }

    // q quits; Ctrl-C arrives as SIGINT (above).
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

    private static readonly string[] Headers = ["NODE", "ROLE", "STATE", "LINK", "IN/s", "SENT/s", "LAG", "LAG-AGE", "DISK", "DROPPED"];
    private const int FirstRightAligned = 4; // IN/s and the columns after it are numbers

    /// <summary>One frame: a header line, then the table (column heads, a rule, a row per node).</summary>
    internal static List<Span[]> Render(string http, JsonElement fleet, Rates rates)
    {
        var rows = FleetTree.Rows(fleet);
        var cells = new List<Span[]>(rows.Count);
        var down = 0;
        foreach (var r in rows)
        {
            var n = r.Node;
            var id = StatusClient.Text(n, "nodeId");
            var (inRate, sentRate) = rates.Update(id, n.GetProperty("recordsIn").GetInt64(), n.GetProperty("recordsSent").GetInt64());
            var state = StatusClient.Text(n, "state");
            var link = FleetTree.Link(n);
            if (link == "down" || state == "stale") down++;
            cells.Add([
                new(r.Prefix + id),
                new(StatusClient.Text(n, "role")),
                new(state, state == "ok" ? Style.Green : Style.Red),
                new(link, link switch { "up" => Style.Green, "down" => Style.Red, _ => Style.None }),
                new(inRate.ToString("0", CultureInfo.InvariantCulture)),
                new(sentRate.ToString("0", CultureInfo.InvariantCulture)),
                new(n.GetProperty("backlogRecords").GetInt64().ToString(CultureInfo.InvariantCulture)),
                new(string.Create(CultureInfo.InvariantCulture, $"{n.GetProperty("backlogAgeSeconds").GetDouble():0.0}s")),
                new(FleetTree.Disk(n)),
                new(n.GetProperty("droppedRecords").GetInt64().ToString(CultureInfo.InvariantCulture)),
            ]);
        }
        var widths = new int[Headers.Length];
        for (var c = 0; c < widths.Length; c++)
            widths[c] = Math.Max(Headers[c].Length, cells.Count == 0 ? 0 : cells.Max(row => row[c].Text.Length));

        Span[] title =
        [
            new("edgestream top", Style.Bold),
            new($" {http}  {rows.Count} node(s), "),
            down == 0 ? new("all links up", Style.Green) : new($"{down} down or stale", Style.Red),
            new($"  {DateTime.Now:HH:mm:ss}  (q quits)"),
        ];
        List<Span[]> lines =
        [
            title,
            [],
            Row([.. Headers.Select(h => new Span(h))], widths),
            [new(new string('─', widths.Sum() + 2 * (widths.Length - 1)))],
        ];
        lines.AddRange(cells.Select(row => Row(row, widths)));
        return lines;
    }

    private static Span[] Row(Span[] cells, int[] widths)
    {
        var line = new List<Span>(2 * cells.Length);
        for (var c = 0; c < cells.Length; c++)
        {
            var pad = new string(' ', widths[c] - cells[c].Text.Length);
            if (c > 0) line.Add(new("  "));
            if (c >= FirstRightAligned) line.Add(new(pad));
            line.Add(cells[c]);
            if (c < FirstRightAligned && c < cells.Length - 1) line.Add(new(pad));
        }
        return [.. line];
    }

    internal enum Style { None, Bold, Green, Red }

    internal readonly record struct Span(string Text, Style Style = Style.None);

    /// <summary>
    /// Shows frames in place on a terminal (cursor up over the previous frame, each line cleared to its end,
    /// cut at the terminal's width, colours unless NO_COLOR is set); piped (a log, a test), writes each frame
    /// after the other as plain text.
    /// </summary>
    internal sealed class LiveScreen(TextWriter output, bool interactive) : IDisposable
    {
        private readonly bool _color = interactive && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        private int _shown;

        public void Show(List<Span[]> lines)
        {
            var text = new System.Text.StringBuilder();
            if (interactive)
            {
                if (_shown == 0) text.Append("\u001b[?25l"); // hide the cursor while live
                else text.Append("\r\u001b[").Append(_shown).Append('A');
            }
            else if (_shown > 0) text.AppendLine();
            var width = interactive ? Math.Max(20, Console.WindowWidth - 1) : int.MaxValue;
            foreach (var line in lines)
            {
                var left = width;
                foreach (var span in line)
                {
                    if (left <= 0) break;
                    var part = span.Text.Length <= left ? span.Text : span.Text[..left];
                    left -= part.Length;
                    if (_color && span.Style != Style.None) text.Append(span.Style switch { Style.Bold => "\u001b[1m", Style.Green => "\u001b[32m", _ => "\u001b[31m" }).Append(part).Append("\u001b[0m");
                    else text.Append(part);
                }
                if (interactive) text.Append("\u001b[K");
                text.Append('\n');
            }
            if (interactive) text.Append("\u001b[J");
            _shown = interactive ? lines.Count : 1;
            output.Write(text.ToString());
            output.Flush();
        }

        public void Dispose()
        {
            if (interactive && _shown > 0) output.Write("\u001b[?25h");
            output.Flush();
        }
    }

    /// <summary>
    /// Records per second per node, between two changes of its counters: a node below this one is heard
    /// of once per fleet report (every few seconds), so a per-refresh difference would jump between 0 and
    /// a spike. A node whose counters stay still for 15 s shows 0.
    /// </summary>
    internal sealed class Rates
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
