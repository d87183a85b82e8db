using System.Reflection;
using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Hosting;

/// <summary>Who and what this process is: resolved once at start-up, shared by every service.</summary>
public sealed class NodeContext
{
    public required string NodeId { get; init; }
    public required NodeRole Role { get; init; }
    public string Version { get; init; } = EdgeStreamVersion.Current;
    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>The product version: the entry assembly's informational version without the source-revision suffix.</summary>
public static class EdgeStreamVersion
{
    public static string Current { get; } = Read();

    private static string Read()
    {
        var assembly = Assembly.GetEntryAssembly() ?? typeof(EdgeStreamVersion).Assembly;
        var text = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                   ?? assembly.GetName().Version?.ToString()
                   ?? "0.0.0";
        var plus = text.IndexOf('+');
        return plus > 0 ? text[..plus] : text;
    }
}
