using System.Globalization;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace EdgeStream.Hosting.Logging;

/// <summary>
/// Log lines for systemd's journal on stderr: each line starts with its syslog priority (<c>&lt;6&gt;</c> for
/// information, sd-daemon(3)) and carries no timestamp, since the journal stamps every line itself.
/// </summary>
internal sealed class JournalStderrSink(TextWriter stderr) : ILogEventSink
{
    private readonly MessageTemplateTextFormatter _formatter = new("{Message:lj} <{SourceContext}>{NewLine}{Exception}", CultureInfo.InvariantCulture);
    private readonly Lock _lock = new();

    public void Emit(LogEvent logEvent)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        _formatter.Format(logEvent, text);
        var prefix = Priority(logEvent.Level);
        lock (_lock)
        {
            // The journal makes one entry per line: an exception's stack lines keep the event's priority.
            foreach (var line in text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                stderr.Write(prefix);
                stderr.Write(line.TrimEnd('\r'));
                stderr.Write('\n');
            }
            stderr.Flush();
        }
    }

    /// <summary>syslog(3) priorities: 2 crit, 3 err, 4 warning, 6 info, 7 debug.</summary>
    public static string Priority(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => "<2>",
        LogEventLevel.Error => "<3>",
        LogEventLevel.Warning => "<4>",
        LogEventLevel.Information => "<6>",
        _ => "<7>",
    };
}
