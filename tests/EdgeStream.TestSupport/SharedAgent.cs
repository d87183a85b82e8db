using Xunit;

namespace EdgeStream.TestSupport;

/// <summary>
/// A real edge agent in a temporary directory of its own, started before the tests that use it and
/// stopped (directory removed) after them. As a class or collection fixture it serves all their
/// tests (each uses its own topics); held by a test class that passes on its
/// <see cref="IAsyncLifetime"/> calls, it is each test's own (xUnit makes a test class instance per test).
/// </summary>
public class SharedAgent : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly string[] _args;
    private AgentNode? _node;

    /// <summary>Six partitions per auto-created topic: room for partitioners and group assignors to spread records.</summary>
    /// <remarks>The one public constructor: xUnit builds fixtures through it.</remarks>
    public SharedAgent() : this(["--partitions", "6"]) { }

    /// <summary>An edge started with <paramref name="args"/> after its listeners and data directory.</summary>
    protected SharedAgent(string[] args) => _args = args;

    /// <summary>An edge started with <paramref name="args"/> (for fixtures that hold several agents, and for per-test agents).</summary>
    public static SharedAgent Edge(params string[] args) => new(args);

    public AgentNode Node => _node ?? throw new InvalidOperationException("the agent is not started");
    public string Bootstrap => Node.Bootstrap;

    public virtual async Task InitializeAsync() => _node = await AgentNode.StartAsync(_dir.Combine("data"), "edge", _args);

    public virtual async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        _node = null;
        _dir.Dispose();
    }
}
