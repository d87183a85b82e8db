using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Hosting;

/// <summary>Who and what this process is: resolved once at start-up, shared by every service.</summary>
public sealed class NodeContext
{
    public required string NodeId { get; init; }
    public required NodeRole Role { get; init; }
    public string Version { get; init; } = EdgeStreamVersion.Current;
    /// <summary>The memory profile in effect (<c>auto</c> already resolved).</summary>
    public MemoryProfile Profile { get; init; } = MemoryProfile.Default;
    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;
}
