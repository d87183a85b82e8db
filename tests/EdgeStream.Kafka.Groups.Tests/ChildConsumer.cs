using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>
/// A Confluent.Kafka consumer on the consumer group protocol in a process of its own (a .NET
/// file-based program run with <c>dotnet run</c>), so a test can kill -9 it: no leave is sent, and
/// only the broker's session timeout frees its partitions. It commits each record synchronously and
/// reports each record before its commit ("D partition offset") and once the commit succeeded
/// ("C partition offset"), and its assignment size ("A n"). A kill between the two leaves a record
/// in doubt: <see cref="InDoubt"/> lets the test settle it from the committed offsets.
/// </summary>
public sealed class ChildConsumer : IDisposable
{
    private const string Program = """
        #:package Confluent.Kafka@2.16.0
        using Confluent.Kafka;

        var config = new ConsumerConfig
        {
            BootstrapServers = args[0], GroupId = args[1], GroupProtocol = GroupProtocol.Consumer,
            EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest, BrokerAddressFamily = BrokerAddressFamily.V4,
            MaxPollIntervalMs = 10000, FetchWaitMaxMs = 100, TopicMetadataRefreshIntervalMs = 1000,
        };
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        consumer.Subscribe(args[2]);
        Console.WriteLine("READY");
        var assigned = -1;
        while (true)
        {
            try
            {
                var r = consumer.Consume(100);
                if (consumer.Assignment.Count != assigned) Console.WriteLine($"A {assigned = consumer.Assignment.Count}");
                if (r is null || r.IsPartitionEOF) continue;
                Console.WriteLine($"D {r.Partition.Value} {r.Offset.Value}");
                consumer.Commit(r);
                Console.WriteLine($"C {r.Partition.Value} {r.Offset.Value}");
            }
            catch (KafkaException) { }
        }
        """;

    private readonly TempDirectory _dir = new();
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile int _partitions;
    private readonly ConcurrentDictionary<int, long> _delivered = new();
    private readonly ConcurrentDictionary<int, long> _committed = new();

    private ChildConsumer(string bootstrap, string group, string topic, ConcurrentQueue<(int Partition, long Offset)> seen)
    {
        var source = _dir.Combine("consumer.cs");
        File.WriteAllText(source, Program);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir.Path };
        foreach (var a in new[] { "run", source, "--", bootstrap, group, topic }) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            var parts = line.Split(' ');
            if (line == "READY") _ready.TrySetResult();
            else if (parts is ["A", var n]) _partitions = int.Parse(n);
            else if (parts is ["D", var dp, var d]) _delivered[int.Parse(dp)] = long.Parse(d);
            else if (parts is ["C", var p, var o])
            {
                _committed[int.Parse(p)] = long.Parse(o);
                seen.Enqueue((int.Parse(p), long.Parse(o)));
            }
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) KafkaClientLog.Add($"child: {line}"); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts the child and waits until it subscribed (the first run compiles the program).</summary>
    public static async Task<ChildConsumer> StartAsync(string bootstrap, string group, string topic, ConcurrentQueue<(int Partition, long Offset)> seen)
    {
        var child = new ChildConsumer(bootstrap, group, topic, seen);
        var ready = await Task.WhenAny(child._ready.Task, child._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(3)));
        if (ready != child._ready.Task)
        {
            child.Dispose();
            throw new InvalidOperationException($"the child consumer did not start\n{Clients.RecentLog()}");
        }
        return child;
    }

    public int Partitions => _partitions;

    /// <summary>After <see cref="Kill"/>: records delivered whose commit was not reported (at most one per partition).</summary>
    public IReadOnlyList<(int Partition, long Offset)> InDoubt =>
        [.. _delivered.Where(d => !_committed.TryGetValue(d.Key, out var c) || c != d.Value).Select(d => (d.Key, d.Value))];

    /// <summary>SIGKILL to the child and the <c>dotnet run</c> host above it.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        _dir.Dispose();
    }
}
