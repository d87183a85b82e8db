using System.Diagnostics.Metrics;
using EdgeStream.Hosting.Metrics;

namespace EdgeStream.Agent.Tests;

/// <summary>
/// Our Prometheus writer (it replaced OpenTelemetry's exporter): the names that exporter gave, one series per
/// label set whatever the tags' order, histogram buckets from the instrument's advice, and text promtool accepts.
/// The busy-node test in EdgeStream.Observability.Tests checks the same against a running agent.
/// </summary>
public sealed class PrometheusExpositionTests
{
    [Theory]
    [InlineData("edgestream.topic.in.records", "{record}", true, "edgestream_topic_in_records_total")]
    [InlineData("edgestream.topic.in.bytes", "By", true, "edgestream_topic_in_bytes_total")]
    [InlineData("edgestream.disk.used", "By", false, "edgestream_disk_used_bytes")]
    [InlineData("edgestream.uplink.lag.age", "s", false, "edgestream_uplink_lag_age_seconds")]
    [InlineData("edgestream.storage.open", "", false, "edgestream_storage_open")]
    [InlineData("dotnet.gc.pause.time", "s", true, "dotnet_gc_pause_time_seconds_total")]
    [InlineData("kestrel.active_connections", "{connection}", false, "kestrel_active_connections")]
    [InlineData("a..b", "By/s", false, "a_b_bytes_per_second")]
    public void Names_AreThoseOpenTelemetryGave(string instrument, string unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusExposition.MetricName(instrument, unit, counter));

    [Fact]
    public void Scrape_WritesEachInstrumentKind_AndPromtoolAcceptsIt()
    {
        var meterName = Unique.Name("test.meter");
        using var meter = new Meter(meterName);
        using var exposition = new PrometheusExposition([meterName], new Dictionary<string, string> { ["test.thing.count"] = "test.things" }, new object(),
            new HashSet<string> { "test.queue.length" });
        var counter = meter.CreateCounter<long>("test.records", "{record}", "Records in.");
        var histogram = meter.CreateHistogram("test.duration", "s", "How long.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.3, 1] });
        var upDown = meter.CreateUpDownCounter<int>("test.connections", "{connection}", "Open now.");
        var partitions = new List<(string Topic, long Offset)> { ("a", 5), ("b\"\\\n", 7) };
        meter.CreateObservableGauge("test.offset", () => partitions.Select(p => new Measurement<long>(p.Offset, new KeyValuePair<string, object?>("topic", p.Topic))),
            "{offset}", "Next offset.");
        meter.CreateObservableUpDownCounter("test.thing.count", () => 3, "{thing}", "Renamed.");
        meter.CreateObservableCounter("test.queue.length", () => 4L, "{item}", "A counter that is a gauge.");

        counter.Add(2, new("topic", "t"), new("api", "Produce"));
        counter.Add(3, new("api", "Produce"), new("topic", "t"));
        counter.Add(1, new KeyValuePair<string, object?>("code", 0));
        histogram.Record(0.25);
        histogram.Record(0.5);
        histogram.Record(4);
        upDown.Add(2);
        upDown.Add(-1);

        var text = exposition.Scrape();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("# TYPE test_records_total counter", lines);
        Assert.Contains("# HELP test_records_total Records in.", lines);
        Assert.Contains("test_records_total{api=\"Produce\",topic=\"t\"} 5", lines);
        Assert.Contains("test_records_total{code=\"0\"} 1", lines);
        Assert.Contains("# TYPE test_duration_seconds histogram", lines);
        Assert.Contains("test_duration_seconds_bucket{le=\"0.01\"} 0", lines);
        Assert.Contains("test_duration_seconds_bucket{le=\"0.3\"} 1", lines);
        Assert.Contains("test_duration_seconds_bucket{le=\"1\"} 2", lines);
        Assert.Contains("test_duration_seconds_bucket{le=\"+Inf\"} 3", lines);
        Assert.Contains("test_duration_seconds_sum 4.75", lines);
        Assert.Contains("test_duration_seconds_count 3", lines);
        Assert.Contains("# TYPE test_connections gauge", lines);
        Assert.Contains("test_connections 1", lines);
        Assert.Contains("test_offset{topic=\"a\"} 5", lines);
        Assert.Contains("test_offset{topic=\"b\\\"\\\\\\n\"} 7", lines);
        Assert.Contains("test_things 3", lines);
        Assert.Contains("# TYPE test_queue_length gauge", lines);
        Assert.Contains("test_queue_length 4", lines);
        var (code, stdout, stderr) = ExternalTool.Run("promtool", ["check", "metrics"], text, TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"promtool check metrics failed ({code}):\n{stdout}\n{stderr}\n--- /metrics ---\n{text}");

        // An observable's series are what its callback reports now: a partition gone is gone from /metrics.
        partitions.RemoveAt(0);
        lines = exposition.Scrape().Split('\n');
        Assert.DoesNotContain(lines, l => l.StartsWith("test_offset{topic=\"a\"}", StringComparison.Ordinal));
        Assert.Contains("test_records_total{api=\"Produce\",topic=\"t\"} 5", lines);
    }

    [Fact]
    public void Scrape_LeavesOutMetersOfAnotherScope()
    {
        var meterName = Unique.Name("test.scoped");
        var mine = new object();
        using var exposition = new PrometheusExposition([meterName], new Dictionary<string, string>(), mine);
        using var ours = new Meter(new MeterOptions(meterName) { Scope = mine });
        using var theirs = new Meter(new MeterOptions(meterName) { Scope = new object() });
        ours.CreateCounter<long>("test.ours").Add(1);
        theirs.CreateCounter<long>("test.theirs").Add(1);

        var text = exposition.Scrape();
        Assert.Contains("test_ours_total 1", text);
        Assert.DoesNotContain("test_theirs", text);
    }
}
