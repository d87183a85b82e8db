using System.Text.Json;
using Confluent.Kafka;
using EdgeStream.TestSupport;
using Xunit.Abstractions;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// The sink toward an external cluster that requires TLS and SASL: the "external cluster" is another
/// EdgeStream node with <c>--tls-cert/--tls-key/--tls-ca --kafka-sasl scram-sha-512</c> and users made
/// with <c>edgestream users add</c>, read back with Confluent.Kafka over SASL_SSL. A cloud node sinks
/// into it with <c>--sink-tls-*</c> and <c>--sink-sasl*</c>, the password from a file.
/// </summary>
public sealed class CloudSinkSecurityTests(ITestOutputHelper output)
{
    private const string Topic = "telemetry";
    private const string SinkPassword = "sink-Pa55word-7f3e";
    private const string WrongPassword = "not-the-Pa55word-c41d";
    private const string ReaderPassword = "reader-Pa55word-9a0b";
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(90);

    /// <summary>The external node (not started yet) with TLS and SCRAM-SHA-512, its users "sink" and "reader", and the certificates.</summary>
    private static async Task<(AgentNode External, AgentCertificates Certificates)> StartExternalAsync(TempDirectory dir)
    {
        var certificates = AgentCertificates.ForNode(dir.Combine("certs"), "external", "cloud-1");
        var external = AgentNode.Prepare(dir.Combine("external"), "cloud",
            ["--node-id", "external", "--partitions", Hierarchy.Partitions.ToString(), .. certificates.NodeFlags("external"), "--kafka-sasl", "scram-sha-512"]);
        AgentUsers.Add(external.DataDirectory, "sink", SinkPassword, "--mechanism", "scram-sha-512");
        AgentUsers.Add(external.DataDirectory, "reader", ReaderPassword, "--mechanism", "scram-sha-512");
        // LogReader and the hierarchy helpers read it over SASL_SSL (AgentNode registered its CA).
        KafkaTls.RegisterSasl(external.Bootstrap, SaslMechanism.ScramSha512, "reader", ReaderPassword);
        await external.RestartAsync();
        return (external, certificates);
    }

    private static string[] SinkArgs(AgentNode external, AgentCertificates certificates, string passwordFile, bool clientCertificate) =>
    [
        "--node-id", "cloud-1", "--partitions", Hierarchy.Partitions.ToString(), "--sink", $"kafka://{external.Bootstrap}",
        "--sink-tls-ca", certificates.Ca,
        .. clientCertificate ? new[] { "--sink-tls-cert", certificates.Certificate("cloud-1"), "--sink-tls-key", certificates.Key("cloud-1") } : [],
        "--sink-sasl", "scram-sha-512", "--sink-sasl-username", "sink", "--sink-sasl-password-file", passwordFile,
    ];

    [Fact]
    public async Task SaslSsl_CloudSinksEdgeRecords_EveryRecordOnceReadBackOverSaslSsl()
    {
        using var dir = new TempDirectory();
        var (external, certificates) = await StartExternalAsync(dir);
        await using var _ = external;
        var passwordFile = dir.Combine("sink.pass");
        await File.WriteAllTextAsync(passwordFile, SinkPassword + "\n");
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", SinkArgs(external, certificates, passwordFile, clientCertificate: true));
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--partitions", Hierarchy.Partitions.ToString(),
            "--parent", $"127.0.0.1:{cloud.UplinkPort}");

        const int records = 3_000;
        Hierarchy.Produce(edge.Bootstrap, Topic, "s", 0, records);
        var arrived = await ReadAllAtExternalAsync(external, records, cloud, edge);
        Hierarchy.AssertExactlyOnce(arrived, "s", records, "edge-a", Topic);

        var sink = await SinkAsync(cloud);
        Assert.Equal("SASL_SSL", sink.GetProperty("security").GetString());
        Assert.Equal("connected", sink.GetProperty("state").GetString());
        Assert.Equal(0, sink.GetProperty("duplicatesFound").GetInt64());
        Assert.DoesNotContain(SinkPassword, AgentUsers.AllLogs(cloud), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_SinkShowsAuthenticationError_RestartWithRightOneDeliversEverythingOnce()
    {
        using var dir = new TempDirectory();
        var (external, certificates) = await StartExternalAsync(dir);
        await using var _ = external;
        var passwordFile = dir.Combine("sink.pass");
        await File.WriteAllTextAsync(passwordFile, WrongPassword + "\n");
        var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", SinkArgs(external, certificates, passwordFile, clientCertificate: false));
        await using var __ = cloud;
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--partitions", Hierarchy.Partitions.ToString(),
            "--parent", $"127.0.0.1:{cloud.UplinkPort}");

        // The cluster refuses the sink: state error with the broker's reason, the records held at the cloud node.
        const int records = 2_000;
        Hierarchy.Produce(edge.Bootstrap, Topic, "w", 0, records);
        Assert.True(await Wait.UntilAsync(async () => await edge.UplinkDrainedAsync(Topic), Drain, TimeSpan.FromMilliseconds(500)),
            "the cloud node did not take the edge's records");
        var refused = await Wait.UntilAsync(async () =>
        {
            var sink = await SinkAsync(cloud);
            return sink.GetProperty("state").GetString() == "error" && sink.GetProperty("lagRecords").GetInt64() == records
                && sink.GetProperty("partitions").EnumerateArray().Any(p => p.TryGetProperty("lastError", out var e) && e.ValueKind == JsonValueKind.String
                    && e.GetString()!.Contains("SASL_AUTHENTICATION_FAILED", StringComparison.Ordinal));
        }, Drain, TimeSpan.FromMilliseconds(200));
        Assert.True(refused, $"the sink does not show the authentication error with {records} records held.\n{await SinkTextAsync(cloud)}");
        Assert.Equal(0, (await SinkAsync(cloud)).GetProperty("recordsSent").GetInt64());
        Assert.True(await Wait.UntilAsync(() => AgentUsers.AllLogs(cloud).Contains("SASL_AUTHENTICATION_FAILED", StringComparison.Ordinal), Drain),
            "the authentication error is not in the cloud node's log");
        var logs = AgentUsers.AllLogs(cloud);
        Assert.DoesNotContain(WrongPassword, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassword, (await cloud.StatusAsync()).GetRawText(), StringComparison.Ordinal);
        Assert.Equal(0, LogReader.Count(external.Bootstrap, Topic));

        // Fixed and restarted: everything the cloud node held arrives, once, and what comes after too.
        await File.WriteAllTextAsync(passwordFile, SinkPassword + "\n");
        await cloud.RestartAsync();
        output.WriteLine("cloud node restarted with the right password");
        Hierarchy.Produce(edge.Bootstrap, Topic, "w", records, records + 500);
        var arrived = await ReadAllAtExternalAsync(external, records + 500, cloud, edge);
        Hierarchy.AssertExactlyOnce(arrived, "w", records + 500, "edge-a", Topic);
        Assert.Equal("connected", (await SinkAsync(cloud)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task CertificateFromAnotherCa_SinkShowsWhichHostIsNotTrusted()
    {
        using var dir = new TempDirectory();
        var (external, _) = await StartExternalAsync(dir);
        await using var __ = external;
        var stranger = AgentCertificates.Create(dir.Combine("other-ca"));
        var passwordFile = dir.Combine("sink.pass");
        await File.WriteAllTextAsync(passwordFile, SinkPassword);
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud",
            "--node-id", "cloud-1", "--partitions", Hierarchy.Partitions.ToString(), "--sink", $"kafka://{external.Bootstrap}", "--sink-tls-ca", stranger.Ca,
            "--sink-sasl", "scram-sha-512", "--sink-sasl-username", "sink", "--sink-sasl-password-file", passwordFile);

        // Records produced into the cloud node itself: its sink has partitions to forward, and cannot.
        Hierarchy.Produce(cloud.Bootstrap, Topic, "c", 0, 10);
        var refused = await Wait.UntilAsync(async () =>
        {
            var sink = await SinkAsync(cloud);
            return sink.GetProperty("state").GetString() == "error"
                && sink.GetProperty("partitions").EnumerateArray().Any(p => p.TryGetProperty("lastError", out var e) && e.ValueKind == JsonValueKind.String
                    && e.GetString()!.Contains("certificate of 127.0.0.1", StringComparison.Ordinal) && e.GetString()!.Contains("configured CA", StringComparison.Ordinal));
        }, Drain, TimeSpan.FromMilliseconds(200));
        Assert.True(refused, $"the sink does not say the external cluster's certificate is not trusted.\n{await SinkTextAsync(cloud)}");
        Assert.Equal(0, LogReader.Count(external.Bootstrap, Topic));
    }

    /// <summary>Everything the external cluster holds once the edge is drained and the cloud node's sink has nothing left.</summary>
    private static async Task<List<Arrived>> ReadAllAtExternalAsync(AgentNode external, int expected, AgentNode cloud, AgentNode edge)
    {
        var done = await Wait.UntilAsync(async () =>
            await edge.UplinkDrainedAsync(Topic) && await CaughtUpAsync(cloud) && LogReader.Count(external.Bootstrap, Topic) >= expected,
            Drain, TimeSpan.FromMilliseconds(500));
        Assert.True(done, $"not everything reached the external cluster ({LogReader.Count(external.Bootstrap, Topic)} of {expected}).\n{await SinkTextAsync(cloud)}");
        return Hierarchy.ReadToEnd(external.Bootstrap, Topic, Drain);
    }

    private static async Task<JsonElement> SinkAsync(AgentNode cloud) => (await cloud.StatusAsync()).GetProperty("sink");

    private static async Task<string> SinkTextAsync(AgentNode cloud) =>
        cloud.IsRunning ? (await SinkAsync(cloud)).GetRawText() : "(not running)";

    private static async Task<bool> CaughtUpAsync(AgentNode cloud)
    {
        var partitions = (await SinkAsync(cloud)).GetProperty("partitions");
        return partitions.GetArrayLength() == Hierarchy.Partitions && partitions.EnumerateArray().All(p => p.GetProperty("lag").GetInt64() == 0);
    }
}
