using EdgeStream.Bench;
using EdgeStream.Bench.Scenarios;

// edgestream-bench SCENARIO [options]: each scenario measures EdgeStream next to a reference
// run in the same process (raw file writes, a peer broker, raw TCP), because absolute numbers
// on shared machines are noise and ratios are not.
var scenarios = new Dictionary<string, Func<BenchArgs, Task<int>>>(StringComparer.Ordinal)
{
    ["storage-append"] = StorageAppendScenario.RunAsync,
    ["kafka-produce"] = KafkaProduceScenario.RunAsync,
    ["kafka-fetch-sessions"] = KafkaFetchSessionsScenario.RunAsync,
    ["kafka-consume"] = KafkaConsumeScenario.RunAsync,
    ["kafka-transactions"] = KafkaTransactionsScenario.RunAsync,
    ["tls-cost"] = TlsCostScenario.RunAsync,
    ["uplink-forward"] = UplinkScenarios.ForwardAsync,
    ["backlog-drain"] = UplinkScenarios.BacklogAsync,
    ["cloud-sink"] = CloudSinkScenario.RunAsync,
    ["mqtt-publish"] = MqttPublishScenario.RunAsync,
    ["mesh"] = MeshScenario.RunAsync,
    ["mesh-agents"] = MeshAgentsScenario.RunAsync,
    ["file-transfer"] = FileTransferScenario.RunAsync,
    ["cdc"] = CdcScenario.RunAsync,
    ["footprint"] = FootprintScenario.RunAsync,
    ["metrics"] = MetricsScenario.RunAsync,
};

if (args.Length == 0 || args[0] is "-h" or "--help" || !scenarios.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine("usage: edgestream-bench SCENARIO [--key value ...]");
    Console.Error.WriteLine("scenarios: " + string.Join(", ", scenarios.Keys));
    return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
}
try
{
    return await run(BenchArgs.Parse(args.AsSpan(1)));
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"edgestream-bench: {ex.Message}");
    return 2;
}
