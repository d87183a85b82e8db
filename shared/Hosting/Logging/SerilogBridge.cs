using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace EdgeStream.Hosting.Logging;

/// <summary>
/// Microsoft.Extensions.Logging over a Serilog logger: what Serilog.Extensions.Logging's SerilogLoggerFactory did for
/// us, without its cost in a NativeAOT binary. Its logger's <c>Log&lt;TState&gt;</c> is a large generic method, and
/// every source-generated log event has its own state struct, so the compiler made ~180 copies of it (450 KB,
/// docs/BENCHMARKS.md "footprint"). Here the generic part only boxes the state (or formats the message of a state that
/// is not a list of properties); the rest is shared. Events look the same: the <c>{OriginalFormat}</c> template with the
/// state's properties bound (<c>@</c> destructures, <c>$</c> stringifies), <c>SourceContext</c> = the category and an
/// <c>EventId</c> structure. Scopes are not kept (no output template shows them).
/// </summary>
public sealed class SerilogBridgeFactory(Serilog.ILogger logger) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) =>
        new SerilogBridgeLogger(logger.ForContext(Constants.SourceContextPropertyName, categoryName));

    /// <summary>Other providers are not called: every event goes to the Serilog logger (as SerilogLoggerFactory did).</summary>
    public void AddProvider(ILoggerProvider provider) { }

    /// <summary>The Serilog logger belongs to whoever created it.</summary>
    public void Dispose() { }
}

internal sealed class SerilogBridgeLogger(Serilog.ILogger logger) : ILogger
{
    private const string OriginalFormat = "{OriginalFormat}";
    private static readonly MessageTemplateParser Parser = new();
    private static readonly ConcurrentDictionary<string, MessageTemplate> Templates = new(StringComparer.Ordinal);

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logger.IsEnabled(ToSerilog(logLevel));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    // The only generic code, compiled once per state type: box the state, or format the message when the state is
    // not a list of properties (log events always are; a plain state is the exception).
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
            Write(ToSerilog(logLevel), eventId, state, exception, state is IEnumerable<KeyValuePair<string, object?>> ? null : formatter(state, null));
    }

    private void Write(LogEventLevel level, EventId eventId, object? state, Exception? exception, string? message)
    {
        try
        {
            var properties = new List<LogEventProperty>();
            string? template = null;
            if (state is IEnumerable<KeyValuePair<string, object?>> structure)
            {
                foreach (var (key, value) in structure)
                {
                    LogEventProperty? bound;
                    if (key == OriginalFormat && value is string text) template = text;
                    else if (key.StartsWith('@') ? logger.BindProperty(key[1..], value, true, out bound)
                             : key.StartsWith('$') ? logger.BindProperty(key[1..], value?.ToString(), true, out bound)
                             : logger.BindProperty(key, value, false, out bound))
                        properties.Add(bound);
                }
                // Properties without a template: the state's own text (a source-generated state formats its message).
                message ??= template is null ? state.ToString() : null;
            }
            if (template is null)
            {
                var name = state is null ? "Message" : "State";
                template = "{" + name + ":l}";
                if (logger.BindProperty(name, message, false, out var bound)) properties.Add(bound);
            }
            if (eventId.Id != 0 || eventId.Name != null) properties.Add(EventIdProperty(eventId));
            var parsed = Templates.TryGetValue(template, out var cached) ? cached
                : Templates.Count < 1000 ? Templates.GetOrAdd(template, Parser.Parse(template))
                : Parser.Parse(template);
            logger.Write(new LogEvent(DateTimeOffset.Now, level, exception, parsed, properties));
        }
        catch (Exception ex)
        {
            Serilog.Debugging.SelfLog.WriteLine($"Failed to write event through {nameof(SerilogBridgeLogger)}: {ex}");
        }
    }

    private static LogEventProperty EventIdProperty(EventId eventId)
    {
        var parts = new List<LogEventProperty>(2);
        if (eventId.Id != 0) parts.Add(new LogEventProperty("Id", new ScalarValue(eventId.Id)));
        if (eventId.Name != null) parts.Add(new LogEventProperty("Name", new ScalarValue(eventId.Name)));
        return new LogEventProperty("EventId", new StructureValue(parts));
    }

    private static LogEventLevel ToSerilog(LogLevel level) => level switch
    {
        LogLevel.Trace => LogEventLevel.Verbose,
        LogLevel.Debug => LogEventLevel.Debug,
        LogLevel.Information => LogEventLevel.Information,
        LogLevel.Warning => LogEventLevel.Warning,
        LogLevel.Error => LogEventLevel.Error,
        _ => LogEventLevel.Fatal,
    };
}
