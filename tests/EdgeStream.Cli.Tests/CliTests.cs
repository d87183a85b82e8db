using EdgeStream.Records;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Cli.Tests;

/// <summary>The real <c>edgestream topics|produce|consume</c> against real agents, and kcat on the other side.</summary>
[Collection(AgentCollection.Name)]
public sealed class CliTests(AgentFixture agents)
{
    private string Single => agents.Single.Bootstrap;
    private string Three => agents.ThreePartitions.Bootstrap;

    private static Task<CliResult> Run(params string[] args) => CliProcess.EdgestreamAsync(args);

    private static Task<CliResult> RunWithStdin(string stdin, params string[] args) => CliProcess.EdgestreamAsync(args, Encoding.UTF8.GetBytes(stdin));

    private static void AssertOk(CliResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    // ---- topics ----

    [Fact]
    public async Task Topics_CreateListDescribeDelete_RoundTrip()
    {
        var topic = Unique.Name("admin");
        var created = await Run("topics", "create", topic, "--partitions", "2", "--config", "retention.ms=3600000", "-b", Single);
        AssertOk(created);

        var again = await Run("topics", "create", topic, "-b", Single);
        Assert.True(again.ExitCode == 1, again.ToString());
        Assert.Contains($"broker returned TOPIC_ALREADY_EXISTS for '{topic}'", again.Stderr);

        var list = await Run("topics", "list", "-b", Single);
        AssertOk(list);
        Assert.Contains(topic, list.Lines);

        AssertOk(await RunWithStdin("a\nb\nc\n", "produce", topic, "--partition", "1", "-b", Single));
        var describe = await Run("topics", "describe", topic, "-b", Single);
        AssertOk(describe);
        Assert.Contains("partitions  2", describe.Stdout);
        // Partition 0 is empty (0..0), partition 1 holds the three records (0..3).
        Assert.Matches(@"(?m)^0\s+\d+\s+0\s+0\s*$", describe.Stdout);
        Assert.Matches(@"(?m)^1\s+\d+\s+0\s+3\s*$", describe.Stdout);
        Assert.Contains("retention.ms=3600000", describe.Stdout);

        AssertOk(await Run("topics", "delete", topic, "-b", Single));
        var after = await Run("topics", "list", "-b", Single);
        AssertOk(after);
        Assert.DoesNotContain(topic, after.Lines);

        var missing = await Run("topics", "delete", topic, "-b", Single);
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains($"topic '{topic}' does not exist", missing.Stderr);
    }

    [Fact]
    public async Task TopicsList_AfterProduce_ListsAutoCreatedTopic()
    {
        var topic = Unique.Name("list");
        AssertOk(await Run("produce", topic, "-m", "x", "-b", Single));
        var list = await Run("topics", "list", "-b", Single);
        AssertOk(list);
        Assert.Contains(topic, list.Lines);
    }

    [Fact]
    public async Task TopicsDescribe_UnknownTopic_Exit1NamesTopic()
    {
        var topic = Unique.Name("nodesc");
        var result = await Run("topics", "describe", topic, "-b", Single);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"topic '{topic}' does not exist", result.Stderr);
    }

    // ---- produce and consume ----

    [Fact]
    public async Task Produce_ThousandLinesFromStdin_ConsumeFromBeginningReturnsThemInOrder()
    {
        var topic = Unique.Name("order");
        var lines = Enumerable.Range(0, 1000).Select(i => $"line {i:D4} ünïcödé").ToArray();
        var produced = await RunWithStdin(string.Join('\n', lines) + "\n", "produce", topic, "-b", Single);
        AssertOk(produced);
        Assert.Equal("", produced.Stdout);

        var consumed = await Run("consume", topic, "--from-beginning", "-n", "1000", "-b", Single);
        AssertOk(consumed);
        Assert.Equal(lines, consumed.Stdout.Split('\n')[..^1]);
    }

    [Fact]
    public async Task Produce_VerboseAndLastLineWithoutNewline_ReportsOffsetsAndSendsEveryLine()
    {
        var topic = Unique.Name("verbose");
        var produced = await RunWithStdin("one\n\nthree", "produce", topic, "--verbose", "-b", Single);
        AssertOk(produced);
        // Lines that arrive while a request is in flight go out in the next one, so under load the
        // three lines may take more than one request: every report names its records and offset.
        var reports = System.Text.RegularExpressions.Regex.Matches(produced.Stderr, $@"produced (\d+) record\(s\) to '{System.Text.RegularExpressions.Regex.Escape(topic)}' partition 0 at offset (\d+)");
        Assert.NotEmpty(reports);
        Assert.Equal("0", reports[0].Groups[2].Value);
        Assert.Equal(3, reports.Sum(m => int.Parse(m.Groups[1].Value)));

        var consumed = await Run("consume", topic, "--from-beginning", "-n", "3", "-b", Single);
        AssertOk(consumed);
        Assert.Equal("one\n\nthree\n", consumed.Stdout);
    }

    [Fact]
    public async Task Produce_WithKey_ConsumeJsonShowsKeyPartitionOffset()
    {
        var topic = Unique.Name("json");
        AssertOk(await Run("produce", topic, "-m", "first", "-b", Single));
        AssertOk(await Run("produce", topic, "-m", "hello \"world\"", "--key", "sensor-7", "-b", Single));

        var consumed = await Run("consume", topic, "--from-beginning", "-n", "2", "--format", "json", "-b", Single);
        AssertOk(consumed);
        var records = consumed.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(2, records.Length);
        Assert.Equal(JsonValueKind.Null, records[0].GetProperty("key").ValueKind);
        Assert.Equal(0, records[0].GetProperty("offset").GetInt64());
        var keyed = records[1];
        Assert.Equal("sensor-7", keyed.GetProperty("key").GetString());
        Assert.Equal("hello \"world\"", keyed.GetProperty("value").GetString());
        Assert.Equal(0, keyed.GetProperty("partition").GetInt32());
        Assert.Equal(1, keyed.GetProperty("offset").GetInt64());
        var age = DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(keyed.GetProperty("timestamp").GetInt64());
        Assert.True(age.Duration() < TimeSpan.FromMinutes(5), $"timestamp is {age} away from now");
        Assert.Equal(0, keyed.GetProperty("headers").GetArrayLength());
    }

    [Fact]
    public async Task Consume_PartitionAndOffset_StartsAtThatOffset()
    {
        var topic = Unique.Name("offset");
        AssertOk(await RunWithStdin(string.Concat(Enumerable.Range(0, 10).Select(i => $"r{i}\n")), "produce", topic, "-b", Single));

        var consumed = await Run("consume", topic, "--partition", "0", "--offset", "7", "-n", "3", "-b", Single);
        AssertOk(consumed);
        Assert.Equal(["r7", "r8", "r9"], consumed.Lines);
    }

    [Fact]
    public async Task Consume_OffsetBeyondEnd_Exit1WithValidRange()
    {
        var topic = Unique.Name("range");
        AssertOk(await RunWithStdin("a\nb\n", "produce", topic, "-b", Single));
        var consumed = await Run("consume", topic, "-p", "0", "-o", "50", "--timeout", "5s", "-b", Single);
        Assert.True(consumed.ExitCode == 1, consumed.ToString());
        Assert.Contains("offset 50 is out of range", consumed.Stderr);
        Assert.Contains("valid: 0 to 2", consumed.Stderr);
    }

    [Fact]
    public async Task Consume_TimeoutWithNoNewRecords_ExitsZeroWithoutOldRecords()
    {
        var topic = Unique.Name("idle");
        AssertOk(await Run("produce", topic, "-m", "old", "-b", Single));
        var watch = Stopwatch.StartNew();
        var consumed = await Run("consume", topic, "--timeout", "1500ms", "-b", Single);
        AssertOk(consumed);
        Assert.Equal("", consumed.Stdout);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(1500), $"exited after {watch.Elapsed}, before the idle timeout");
    }

    [Fact]
    public async Task Consume_DefaultStart_FollowsRecordsProducedAfterItStarted()
    {
        var topic = Unique.Name("follow");
        AssertOk(await Run("produce", topic, "-m", "before", "-b", Single));
        using var follower = CliProcess.StartEdgestream(["consume", topic, "-n", "1", "-b", Single]);
        var output = follower.StandardOutput.ReadToEndAsync();
        // The follower starts at the end once it is connected; we cannot see when that is, so keep
        // producing until it has printed one record (and exited).
        var sent = 0;
        Assert.True(await Wait.UntilAsync(async () =>
        {
            if (follower.HasExited) return true;
            AssertOk(await Run("produce", topic, "-m", $"after-{sent++}", "-b", Single));
            return false;
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(300)), "the follower never printed a record");
        Assert.Equal(0, follower.ExitCode);
        Assert.Matches(@"^after-\d+\n$", await output);
    }

    [Fact]
    public async Task Consume_ReaderClosesPipe_ExitsZero()
    {
        var topic = Unique.Name("pipe");
        AssertOk(await RunWithStdin(string.Concat(Enumerable.Range(0, 2000).Select(i => $"r{i}\n")), "produce", topic, "-b", Single));
        // No -n: only the closed pipe can stop it, and every record may already sit in the pipe buffer
        // when head exits, so the idle follower must notice without a failed write. PIPESTATUS[0] is its exit code.
        var script = $"dotnet '{AgentProcess.AgentDll}' consume {topic} --from-beginning -b {Single} | head -n 2; echo \"status=${{PIPESTATUS[0]}}\"";
        var result = await CliProcess.RunAsync("bash", ["-c", script], null, null, TimeSpan.FromSeconds(60));
        Assert.Equal("r0\nr1\nstatus=0\n", result.Stdout);
    }

    [Fact]
    public async Task Consume_UnknownTopic_Exit1WithClearError()
    {
        var topic = Unique.Name("missing");
        var consumed = await Run("consume", topic, "-n", "1", "-b", Single);
        Assert.True(consumed.ExitCode == 1, consumed.ToString());
        Assert.Equal($"edgestream: topic '{topic}' does not exist\n", consumed.Stderr);
        // Consuming must not have created it.
        Assert.DoesNotContain(topic, (await Run("topics", "list", "-b", Single)).Lines);
    }

    [Fact]
    public async Task Consume_UnknownTopicWithTimeout_WaitsThatLongThenExit1()
    {
        var topic = Unique.Name("missing");
        var consumed = await Run("consume", topic, "-n", "1", "--timeout", "1s", "-b", Single);
        Assert.True(consumed.ExitCode == 1, consumed.ToString());
        Assert.Contains($"topic '{topic}' does not exist yet; waiting up to 1s for it", consumed.Stderr);
        Assert.EndsWith($"edgestream: topic '{topic}' does not exist\n", consumed.Stderr);
        Assert.DoesNotContain(topic, (await Run("topics", "list", "-b", Single)).Lines);
    }

    [Fact]
    public async Task Consume_TopicCreatedWhileWaiting_PrintsItsRecord()
    {
        var topic = Unique.Name("later");
        var consuming = Run("consume", topic, "--from-beginning", "-n", "1", "--timeout", "60s", "-b", Single);
        AssertOk(await Run("produce", topic, "-m", "arrived", "-b", Single));
        var consumed = await consuming;
        Assert.True(consumed.ExitCode == 0, consumed.ToString());
        Assert.Equal("arrived\n", consumed.Stdout);
    }

    // ---- bootstrap and usage ----

    [Theory]
    [InlineData("topics", "list")]
    [InlineData("produce", "t", "-m", "x")]
    [InlineData("consume", "t", "-n", "1")]
    public async Task AnyVerb_NothingListening_Exit1ConnectionRefused(params string[] args)
    {
        var port = AgentProcess.FreePort();
        var result = await Run([.. args, "--bootstrap", $"127.0.0.1:{port}"]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"edgestream: cannot connect to 127.0.0.1:{port}: connection refused\n", result.Stderr);
    }

    [Fact]
    public async Task TopicsList_BootstrapFromEnvironment_UsesIt()
    {
        var topic = Unique.Name("env");
        AssertOk(await Run("produce", topic, "-m", "x", "-b", Single));
        var result = await CliProcess.EdgestreamAsync(["topics", "list"], environment: new Dictionary<string, string> { ["EDGESTREAM_BOOTSTRAP"] = Single });
        AssertOk(result);
        Assert.Contains(topic, result.Lines);
    }

    [Theory]
    [InlineData("topics", "list", "-b", "localhost")]
    [InlineData("consume", "t", "--offset", "3")]
    [InlineData("consume", "t", "--timeout", "soon")]
    [InlineData("consume", "t", "--format", "xml")]
    [InlineData("produce", "t", "--partition", "-1")]
    [InlineData("topics", "create", "t", "--config", "novalue")]
    [InlineData("topics")]
    public async Task AnyVerb_BadUsage_Exit2(params string[] args)
    {
        var result = await Run(args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("edgestream: ", result.Stderr);
    }

    [Theory]
    [InlineData("describe", "topics")]
    [InlineData("--bootstrap", "topics", "list")]
    [InlineData("--partitions", "topics", "create")]
    [InlineData("NAME", "topics", "delete")]
    [InlineData("NAME", "topics", "describe")]
    [InlineData("--key", "produce")]
    [InlineData("--from-beginning", "consume")]
    public async Task Verb_Help_PrintsUsageAndExitsZero(string expected, params string[] verb)
    {
        var result = await Run([.. verb, "--help"]);
        AssertOk(result);
        Assert.Contains("Usage:", result.Stdout);
        Assert.Contains(expected, result.Stdout);
    }

    // ---- interoperability with kcat (librdkafka) ----

    [Fact]
    public async Task Produce_WithCli_KcatReadsKeysAndValues()
    {
        var topic = Unique.Name("tokcat");
        AssertOk(await RunWithStdin("v1\nv2\n", "produce", topic, "--key", "k", "-b", Single));
        AssertOk(await Run("produce", topic, "-m", "v3", "-b", Single));

        var kcat = await CliProcess.KcatAsync(["-b", Single, "-C", "-t", topic, "-e", "-o", "beginning", "-q", "-f", "%k:%s\n"]);
        AssertOk(kcat);
        Assert.Equal("k:v1\nk:v2\n:v3\n", kcat.Stdout);
    }

    [Fact]
    public async Task Consume_RecordsProducedByKcat_CliReadsValuesKeysAndHeaders()
    {
        var topic = Unique.Name("fromkcat");
        var produced = await CliProcess.KcatAsync(["-b", Single, "-P", "-t", topic, "-K", ":", "-H", "source=kcat"],
            [.. "key1:hello\nkey2:"u8, 0xff, 0xfe, (byte)'\n']);
        AssertOk(produced);

        var consumed = await Run("consume", topic, "--from-beginning", "-n", "2", "--format", "json", "-b", Single);
        AssertOk(consumed);
        var records = consumed.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal("key1", records[0].GetProperty("key").GetString());
        Assert.Equal("hello", records[0].GetProperty("value").GetString());
        var header = Assert.Single(records[0].GetProperty("headers").EnumerateArray());
        Assert.Equal("source", header.GetProperty("key").GetString());
        Assert.Equal("kcat", header.GetProperty("value").GetString());
        // Bytes that are not UTF-8 come out as base64.
        Assert.Equal("//4=", records[1].GetProperty("value").GetProperty("base64").GetString());
    }

    [Fact]
    public async Task Produce_KeyedOnThreePartitions_LandsWhereKcatMurmur2PutsTheSameKey()
    {
        var topic = Unique.Name("murmur");
        var keys = new[] { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot" };
        var kcatInput = string.Concat(keys.Select(k => $"{k}:kcat\n"));
        AssertOk(await CliProcess.KcatAsync(["-b", Three, "-P", "-t", topic, "-K", ":", "-X", "partitioner=murmur2_random"], Encoding.UTF8.GetBytes(kcatInput)));
        foreach (var key in keys)
            AssertOk(await Run("produce", topic, "-m", "cli", "--key", key, "-b", Three));

        var consumed = await Run("consume", topic, "--from-beginning", "-n", $"{keys.Length * 2}", "--format", "json", "-b", Three);
        AssertOk(consumed);
        var byKey = consumed.Lines.Select(l => JsonDocument.Parse(l).RootElement)
            .GroupBy(r => r.GetProperty("key").GetString()!)
            .ToDictionary(g => g.Key, g => g.Select(r => (Partition: r.GetProperty("partition").GetInt32(), Value: r.GetProperty("value").GetString())).ToArray());
        foreach (var key in keys)
        {
            var placed = byKey[key];
            Assert.Equal(2, placed.Length);
            Assert.True(placed[0].Partition == placed[1].Partition, $"key {key}: {string.Join(", ", placed)}");
        }
        // Six keys matching kcat by chance has odds of 1 in 729; a partitioner that put all keys in one partition would match trivially.
        Assert.True(byKey.Values.Select(v => v[0].Partition).Distinct().Count() > 1, "every key landed in one partition");
    }
}
