using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary>
/// The admin APIs through other real clients: kafka-python's KafkaAdminClient (Debian's
/// python3-kafka, so /usr/bin/python3) and kcat.
/// </summary>
public sealed class AdminExternalClientTests : IClassFixture<AdminAgentFixture>
{
    private const string Python = "/usr/bin/python3";
    private readonly AdminAgentFixture _agent;

    public AdminExternalClientTests(AdminAgentFixture agent) => _agent = agent;

    private async Task<string> RunPythonAsync(string script)
    {
        var file = Path.Combine(Path.GetTempPath(), $"edgestream-admin-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(file, script);
        try
        {
            var (code, stdout, stderr) = ExternalTool.Run(Python, [file, _agent.Node.Bootstrap], TimeSpan.FromSeconds(60));
            Assert.True(code == 0, $"python exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
            return stdout;
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task KafkaPythonAdmin_CreateDescribeDelete_EachSeesTheOthersEffect()
    {
        var name = Unique.Name("py");
        var stdout = await RunPythonAsync($$"""
            import sys
            from kafka.admin import KafkaAdminClient, NewTopic, ConfigResource, ConfigResourceType
            admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=20000)
            result = admin.create_topics([NewTopic("{{name}}", 2, 1, topic_configs={"retention.ms": "4242000"})])
            print("create", [e[1] for e in result.topic_errors])
            try:
                admin.create_topics([NewTopic("{{name}}", 2, 1)])
                print("duplicate accepted")
            except Exception as e:
                print("duplicate", type(e).__name__)
            described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "{{name}}")])
            for resource in described[0].resources:
                for entry in resource[4]:
                    if entry[0] in ("retention.ms", "segment.bytes"):
                        print("config", entry[0], entry[1], "source", entry[3])
            print("listed", "{{name}}" in admin.list_topics())
            result = admin.delete_topics(["{{name}}"])
            print("delete", [e[1] for e in result.topic_error_codes])
            print("listed", "{{name}}" in admin.list_topics())
            """);

        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
            [
                "create [0]",
                "duplicate TopicAlreadyExistsError",
                "config retention.ms 4242000 source 1",
                "config segment.bytes 134217728 source 5",
                "listed True",
                "delete [0]",
                "listed False",
            ],
            lines);
    }

    // Confluent.Kafka refuses replica assignments with the -1 partition count the protocol wants,
    // so manual assignments are exercised through kafka-python.
    [Fact]
    public async Task KafkaPythonAdmin_ManualAssignments_OnlyThisBrokerAccepted()
    {
        var mine = Unique.Name("assigned");
        var other = Unique.Name("elsewhere");
        var stdout = await RunPythonAsync($$"""
            import sys
            from kafka.admin import KafkaAdminClient, NewTopic
            admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=20000)
            for name, assignment in (("{{mine}}", {0: [1], 1: [1]}), ("{{other}}", {0: [7]})):
                try:
                    result = admin.create_topics([NewTopic(name, -1, -1, replica_assignments=assignment)])
                    print(name, [e[1] for e in result.topic_errors])
                except Exception as e:
                    print(name, type(e).__name__)
            """);

        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal([$"{mine} [0]", $"{other} InvalidReplicationAssignmentError"], lines);
        var metadata = _agent.Admin.GetMetadata(mine, AdminClients.Timeout);
        Assert.Equal(2, Assert.Single(metadata.Topics).Partitions.Count);
    }

    [Fact]
    public async Task KafkaPythonRawRequest_DescribeLogDirs_ListsPartitionsWithSizes()
    {
        var name = Unique.Name("dirs");
        await _agent.Admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = 2, ReplicationFactor = 1 }],
            new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout });
        using (var producer = AdminClients.Producer(_agent.Node.Bootstrap))
            await producer.ProduceAsync(new Confluent.Kafka.TopicPartition(name, 1), new Confluent.Kafka.Message<string, string> { Key = "k", Value = "hello" });

        // kafka-python 2.0.2 has no describe_log_dirs; its protocol types describe DescribeLogDirs v1 exactly.
        var stdout = await RunPythonAsync($$"""
            import sys
            from kafka.admin import KafkaAdminClient
            from kafka.protocol.api import Request, Response
            from kafka.protocol.types import Array, Boolean, Int16, Int32, Int64, Schema, String

            class DescribeLogDirsResponse_v1(Response):
                API_KEY = 35
                API_VERSION = 1
                SCHEMA = Schema(
                    ("throttle_time_ms", Int32),
                    ("results", Array(
                        ("error_code", Int16),
                        ("log_dir", String("utf-8")),
                        ("topics", Array(
                            ("name", String("utf-8")),
                            ("partitions", Array(
                                ("partition_index", Int32),
                                ("partition_size", Int64),
                                ("offset_lag", Int64),
                                ("is_future_key", Boolean))))))))

            class DescribeLogDirsRequest_v1(Request):
                API_KEY = 35
                API_VERSION = 1
                RESPONSE_TYPE = DescribeLogDirsResponse_v1
                SCHEMA = Schema(("topics", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))))

            admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=20000)
            node = admin._client.least_loaded_node()
            future = admin._send_request_to_node(node, DescribeLogDirsRequest_v1(topics=[("{{name}}", [0, 1, 9])]))
            admin._wait_for_futures([future])
            response = future.value
            for error_code, log_dir, topics in response.results:
                print("dir", error_code, log_dir)
                for topic, partitions in topics:
                    for index, size, lag, future_key in partitions:
                        print("partition", topic, index, "empty" if size == 0 else "nonempty", lag, future_key)
            """);

        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal($"dir 0 {Path.Combine(_agent.Node.DataDirectory, "log")}", lines[0]);
        Assert.Equal($"partition {name} 0 empty 0 False", lines[1]);
        Assert.Equal($"partition {name} 1 nonempty 0 False", lines[2]);
    }

    [Fact]
    public async Task Kcat_TopicCreatedViaAdmin_ListedWithItsPartitions()
    {
        var name = Unique.Name("kcat");
        await _agent.Admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = 3, ReplicationFactor = 1 }],
            new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout });

        var (code, stdout, stderr) = ExternalTool.Run("kcat", ["-b", _agent.Node.Bootstrap, "-L", "-t", name, "-m", "20"], TimeSpan.FromSeconds(60));

        Assert.True(code == 0, $"kcat exited with {code}\n{stderr}");
        Assert.Contains($"topic \"{name}\" with 3 partitions:", stdout);
    }
}
