using Microsoft.Extensions.Logging;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// The client verbs' logger: one line per message on stderr (<c>edgestream VERB: level: message</c>), information
/// and above. The verbs do not start a host, so they need no logging framework for these few lines.
/// </summary>
internal sealed class StderrLogger(string verb) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    // Generic code is compiled once per log event's state type (~180 of them): keep it to formatting the message.
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) Write(logLevel, formatter(state, exception));
    }

    private void Write(LogLevel logLevel, string message)
    {
        var level = logLevel switch
        {
            LogLevel.Information => "info",
            LogLevel.Warning => "warning",
            LogLevel.Error => "error",
            _ => "critical",
        };
        Console.Error.WriteLine($"edgestream {verb}: {level}: {message}");
    }
}
