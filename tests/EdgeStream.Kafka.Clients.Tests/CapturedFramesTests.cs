using System.Buffers;
using Confluent.Kafka;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// Records the request frames librdkafka and kafka-python send through <see cref="RecordingProxy"/> and
/// checks that the codec reads and rewrites each byte for byte. With EDGESTREAM_CAPTURE_DIR set, the
/// first frame of each ApiVersions, Metadata and Produce version is written there as a fixture
/// (tests/EdgeStream.Kafka.Protocol.Tests/Fixtures/captured/ holds the committed ones).
/// </summary>
public sealed class CapturedFramesTests
{
    private static readonly ApiKey[] s_kept = [ApiKey.ApiVersions, ApiKey.Metadata, ApiKey.Produce];

    [Fact]
    public async Task RecordedFrames_Librdkafka_ReencodeByteIdentical()
    {
        var frames = await CaptureAsync(async bootstrap =>
        {
            var config = Clients.ProducerConfig(bootstrap, Acks.All, Confluent.Kafka.CompressionType.None);
            using var producer = Clients.Producer(config);
            var message = new Message<byte[], byte[]> { Key = "key"u8.ToArray(), Value = "captured value"u8.ToArray(), Timestamp = new Timestamp(1_700_000_000_000, TimestampType.CreateTime) };
            message.Headers = new Headers { { "h", "v"u8.ToArray() } };
            await producer.ProduceAsync(new TopicPartition("captured", 0), message);
        });
        var version = Library.VersionString.Split('.') is [var major, var minor, ..] ? $"{major}.{minor}" : Library.VersionString;
        CheckAndKeep(frames, $"librdkafka-{version}");
    }

    [Fact]
    public async Task RecordedFrames_KafkaPython_ReencodeByteIdentical()
    {
        const string script = """
            import sys
            from kafka import KafkaProducer
            p = KafkaProducer(bootstrap_servers=sys.argv[1], acks='all')
            p.send('captured', key=b'key', value=b'captured value', partition=0, timestamp_ms=1700000000000, headers=[('h', b'v')]).get(timeout=30)
            p.close()
            """;
        var path = Path.Combine(Path.GetTempPath(), $"edgestream-capture-{Guid.NewGuid():N}.py");
        File.WriteAllText(path, script);
        try
        {
            var frames = await CaptureAsync(bootstrap =>
            {
                var (code, stdout, stderr) = ExternalTool.Run("/usr/bin/python3", [path, bootstrap], timeout: TimeSpan.FromSeconds(60));
                Assert.True(code == 0, $"{stdout}\n{stderr}");
                return Task.CompletedTask;
            });
            CheckAndKeep(frames, "kafka-python-2.0");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<List<byte[]>> CaptureAsync(Func<string, Task> client)
    {
        using var dir = new TempDirectory();
        var proxyPort = AgentProcess.FreePort();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1", "--kafka-advertised", $"127.0.0.1:{proxyPort}");
        List<byte[]> frames;
        // The port was free a moment ago; the proxy binds it now that the agent advertises it.
        await using (var proxy = new RecordingProxy(node.KafkaPort, proxyPort))
        {
            await client($"127.0.0.1:{proxy.Port}");
            frames = proxy.RequestFrames();
        }
        return frames;
    }

    private static void CheckAndKeep(List<byte[]> frames, string clientName)
    {
        var keepDir = Environment.GetEnvironmentVariable("EDGESTREAM_CAPTURE_DIR");
        var seen = new HashSet<ApiKey>();
        var written = new HashSet<string>();
        foreach (var frame in frames)
        {
            var request = KafkaFraming.ParseRequest(new ReadOnlySequence<byte>(frame.AsMemory(4)));
            var output = new ArrayBufferWriter<byte>();
            KafkaFraming.WriteRequest(output, request.Header, request.Body);
            var key = (ApiKey)request.Header.ApiKey;
            Assert.True(frame.AsSpan().SequenceEqual(output.WrittenSpan),
                $"{clientName} {key} v{request.Header.ApiVersion}: re-encoded bytes differ\n{Convert.ToHexString(frame)}\n{Convert.ToHexString(output.WrittenSpan)}");
            seen.Add(key);
            var name = $"{clientName}-{key.ToString().ToLowerInvariant()}-v{request.Header.ApiVersion}.bin";
            if (keepDir is not null && s_kept.Contains(key) && written.Add(name))
                File.WriteAllBytes(Path.Combine(keepDir, name), frame);
        }
        foreach (var key in s_kept) Assert.Contains(key, seen);
    }
}
