using EdgeStream.TestSupport;

namespace EdgeStream.Cli.Tests;

/// <summary>
/// Two real agents for the whole collection: one auto-creating single-partition topics (order
/// checks), one auto-creating three-partition topics (partitioner checks). Tests use their own topics.
/// </summary>
public sealed class AgentFixture : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();

    public AgentNode Single { get; private set; } = null!;
    public AgentNode ThreePartitions { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_temp.Combine("single"));
        Directory.CreateDirectory(_temp.Combine("three"));
        var single = AgentNode.StartAsync(_temp.Combine("single", "data"), "edge", "--partitions", "1");
        var three = AgentNode.StartAsync(_temp.Combine("three", "data"), "edge", "--partitions", "3");
        Single = await single;
        ThreePartitions = await three;
    }

    public async Task DisposeAsync()
    {
        if (Single is not null) await Single.DisposeAsync();
        if (ThreePartitions is not null) await ThreePartitions.DisposeAsync();
        _temp.Dispose();
    }

    public static string NewTopic(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}

[CollectionDefinition(Name)]
public sealed class AgentCollection : ICollectionFixture<AgentFixture>
{
    public const string Name = "agents";
}
