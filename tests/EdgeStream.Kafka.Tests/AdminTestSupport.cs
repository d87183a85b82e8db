using Confluent.Kafka;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary>One agent and one admin client shared by the tests of a class (each test uses its own topics).</summary>
public sealed class AdminAgentFixture() : SharedAgent([])
{
    public IAdminClient Admin { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Admin = AdminClients.Create(Bootstrap);
    }

    public override async Task DisposeAsync()
    {
        Admin?.Dispose();
        await base.DisposeAsync();
    }
}

internal static class AdminClients
{
    /// <summary>Request timeout of the clients: a broker that hangs fails the test instead of stalling it.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    // librdkafka logs every reconnect and metadata refresh to stderr; the tests assert on results instead.
    public static IAdminClient Create(string bootstrap) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, SocketTimeoutMs = 20_000 })
            .SetLogHandler((_, _) => { })
            .Build();

    public static IProducer<string, string> Producer(string bootstrap) =>
        new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, MessageTimeoutMs = 20_000 })
            .SetLogHandler((_, _) => { })
            .Build();
}
