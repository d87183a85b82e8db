using System.Reflection;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary>
/// kafkajs 2.2.4 (npm; a client written from the protocol, not librdkafka): admin, producer and a
/// consumer group against a real agent. <c>./build.sh test</c> installs it (npm ci in tests/EdgeStream.Kafka.Tests/kafkajs).
/// </summary>
public sealed class KafkaJsTests : IClassFixture<AdminAgentFixture>
{
    private readonly AdminAgentFixture _agent;

    public KafkaJsTests(AdminAgentFixture agent) => _agent = agent;

    private static string PeerDirectory => typeof(KafkaJsTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "KafkaJsDirectory").Value!;

    /// <summary>Runs a kafkajs script against the agent with a fresh topic; its output lines "fact value" by fact.</summary>
    private Dictionary<string, string> RunPeer(string script, string topicPrefix)
    {
        Assert.True(Directory.Exists(Path.Combine(PeerDirectory, "node_modules", "kafkajs")),
            $"kafkajs is not installed: run ./build.sh test, or npm ci in {PeerDirectory}");
        var topic = Unique.Name(topicPrefix);
        var (code, stdout, stderr) = ExternalTool.Run("node", [Path.Combine(PeerDirectory, script), _agent.Node.Bootstrap, topic], timeout: TimeSpan.FromSeconds(90));
        Assert.True(code == 0, $"node exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
    }

    [Fact]
    public void KafkaJs_AdminProducerAndConsumerGroup_SeeWhatEachOtherDid()
    {
        var lines = RunPeer("admin.js", "kjs");

        // Every documented Kafka topic config is described, not just the ones EdgeStream acts on.
        Assert.InRange(int.Parse(lines["configs"], System.Globalization.CultureInfo.InvariantCulture), 35, 100);
        Assert.Equal("3600000 false", lines["retention.ms"]);
        Assert.Equal("9223372036854775807 true", lines["flush.ms"]);
        // And every documented broker config, read-only, with passwords withheld.
        Assert.InRange(int.Parse(lines["broker.configs"], System.Globalization.CultureInfo.InvariantCulture), 250, 400);
        Assert.Equal("8 true true", lines["num.io.threads"]);
        Assert.Equal("null true", lines["ssl.key.password"]);
        // An out-of-range value is refused as Kafka refuses it; the topic keeps its retention.
        Assert.Equal("INVALID_CONFIG", lines["alter.invalid"]);
        Assert.Equal("0:0-2,1:0-1", lines["offsets"]);
        Assert.Equal("1", lines["brokers"]);
        Assert.Equal("one,three,two", lines["consumed"]);
        Assert.Equal("false", lines["listed"]);
    }

    [Fact]
    public void KafkaJs_Transactions_ReadCommittedSeesCommittedOnlyAndOffsetsCommitWithTheTransaction()
    {
        var lines = RunPeer("transactions.js", "kjs-txn");
        Assert.Equal("-1", lines["offset-before-commit"]);
        Assert.Equal("42", lines["offset-after-commit"]);
        Assert.Equal("c0,c1,c2", lines["consumed"]);
    }
}
