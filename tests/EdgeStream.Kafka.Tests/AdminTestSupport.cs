using System.Diagnostics;
using Confluent.Kafka;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary>One agent and one admin client shared by the tests of a class (each test uses its own topics).</summary>
public sealed class AdminAgentFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();

    public AgentNode Node { get; private set; } = null!;
    public IAdminClient Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = await AgentNode.StartAsync(_directory.Combine("data"));
        Admin = AdminClients.Create(Node.Bootstrap);
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (Node is not null) await Node.DisposeAsync();
        _directory.Dispose();
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

    public static string TopicName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (condition()) return true;
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(50);
        }
    }
}

/// <summary>Runs an external client (kcat, python) to completion with a deadline.</summary>
internal static class ExternalClient
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string fileName, IEnumerable<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(' ', args)} did not finish within {timeout}.\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
