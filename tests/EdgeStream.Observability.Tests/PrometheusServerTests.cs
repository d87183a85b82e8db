using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Observability.Tests;

/// <summary>A real Prometheus server (Debian's <c>prometheus</c>) scrapes a node; its HTTP API answers queries over what it stored.</summary>
public sealed class PrometheusServerTests
{
    [Fact]
    public async Task Prometheus_ScrapesTheNode_AndAQueryReturnsTheProducedCount()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge");
        var topic = Unique.Name("scraped");
        Scrape.Produce(node, topic, 123);

        var port = AgentProcess.FreePort();
        var config = dir.Combine("prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: edgestream
                static_configs:
                  - targets: ['127.0.0.1:{node.HttpPort}']
            """);
        using var prometheus = ExternalTool.Start("prometheus",
        [
            "--config.file=" + config, "--storage.tsdb.path=" + dir.Combine("tsdb"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture), "--log.level=warn",
        ]);
        var stderr = new System.Text.StringBuilder();
        prometheus.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        prometheus.BeginErrorReadLine();
        prometheus.BeginOutputReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var query = Uri.EscapeDataString($"edgestream_topic_in_records_total{{job=\"edgestream\",topic=\"{topic}\"}}");
            var (done, last) = await Wait.UntilAsync(async () =>
            {
                try { return await http.GetStringAsync($"http://127.0.0.1:{port}/api/v1/query?query={query}"); }
                catch (HttpRequestException) { return ""; } // not listening yet
            }, body => Value(body) is 123, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500));
            Assert.True(done, $"Prometheus never returned 123 for {topic}; last answer: {last}\nprometheus stderr:\n{stderr}");

            // The scrape itself is healthy: Prometheus' own 'up' series for the target.
            var up = await http.GetStringAsync($"http://127.0.0.1:{port}/api/v1/query?query={Uri.EscapeDataString("up{job=\"edgestream\"}")}");
            Assert.Equal(1, Value(up));
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
        }
    }

    // {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},"value":[ts,"123"]}]}}
    private static double? Value(string body)
    {
        if (body.Length == 0) return null;
        using var doc = JsonDocument.Parse(body);
        var result = doc.RootElement.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() != 1) return null;
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }
}
