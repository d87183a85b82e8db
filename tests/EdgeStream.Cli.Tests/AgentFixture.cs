using EdgeStream.TestSupport;

namespace EdgeStream.Cli.Tests;

/// <summary>
/// Two real agents for the whole collection: one auto-creating single-partition topics (order
/// checks), one auto-creating three-partition topics (partitioner checks). Tests use their own topics.
/// </summary>
public sealed class AgentFixture : IAsyncLifetime
{
    private readonly SharedAgent _single = SharedAgent.Edge("--partitions", "1");
    private readonly SharedAgent _three = SharedAgent.Edge("--partitions", "3");

    public AgentNode Single => _single.Node;
    public AgentNode ThreePartitions => _three.Node;

    public Task InitializeAsync() => Task.WhenAll(_single.InitializeAsync(), _three.InitializeAsync());

    public async Task DisposeAsync()
    {
        await _single.DisposeAsync();
        await _three.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AgentCollection : ICollectionFixture<AgentFixture>
{
    public const string Name = "agents";
}
