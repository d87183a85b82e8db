using EdgeStream.Hosting.Configuration;
using Serilog;
using Serilog.Events;

namespace EdgeStream.Hosting.Logging;

/// <summary>Serilog set-up: the console and a rolling file under <c>{data}/logs</c>, or the journal under systemd.</summary>
public static class AgentLogging
{
    private const string ConsoleTemplate = "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj} <{SourceContext}>{NewLine}{Exception}";
    private const string FileTemplate = "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} {Level:u3} [{SourceContext}] {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Builds the process logger. <c>{data}/logs</c> must exist. Under systemd (<c>JOURNAL_STREAM</c> set, systemd.exec(5))
    /// lines go to the journal through stderr with their priority and no timestamp, and no log files are written: the
    /// journal already keeps them, and a device's flash is spared the second copy.
    /// </summary>
    public static Serilog.Core.Logger CreateLogger(AgentOptions options) =>
        CreateLogger(options, StderrIsJournal(Environment.GetEnvironmentVariable("JOURNAL_STREAM"), StderrLinkTarget()));

    /// <summary>
    /// True when <c>JOURNAL_STREAM</c> ("DEVICE:INODE") names this process's stderr. systemd.exec(5) asks programs to
    /// check, since a child of a service inherits the variable with its stderr redirected elsewhere. The inode is read
    /// from the /proc/self/fd/2 link ("socket:[INODE]", "pipe:[INODE]"), which needs no native stat structure.
    /// </summary>
    public static bool StderrIsJournal(string? journalStream, string? stderrLinkTarget)
    {
        if (string.IsNullOrEmpty(journalStream) || string.IsNullOrEmpty(stderrLinkTarget)) return false;
        var colon = journalStream.IndexOf(':');
        var open = stderrLinkTarget.IndexOf(":[", StringComparison.Ordinal);
        if (colon < 0 || open < 0 || !stderrLinkTarget.EndsWith(']')) return false;
        return journalStream.AsSpan(colon + 1).SequenceEqual(stderrLinkTarget.AsSpan(open + 2, stderrLinkTarget.Length - open - 3));
    }

    private static string? StderrLinkTarget()
    {
        try
        {
            return new FileInfo("/proc/self/fd/2").LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static Serilog.Core.Logger CreateLogger(AgentOptions options, bool underJournal)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(options.LogLevel)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            // The host logs start-up failures with a stack trace; the runner reports them as one line instead.
            .MinimumLevel.Override("Microsoft.Extensions.Hosting.Internal.Host", LogEventLevel.Fatal)
            .Enrich.FromLogContext();
        if (underJournal)
            return configuration.WriteTo.Sink(new JournalStderrSink(Console.Error)).CreateLogger();
        return configuration
            .WriteTo.Console(outputTemplate: ConsoleTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .WriteTo.File(
                Path.Combine(options.LogsDirectory, "edgestream-.log"),
                outputTemplate: FileTemplate,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                rollingInterval: RollingInterval.Day,
                fileSizeLimitBytes: 64L << 20,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: 14)
            .CreateLogger();
    }
}
