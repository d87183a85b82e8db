using EdgeStream.TestSupport;
using Microsoft.Playwright;

namespace EdgeStream.Observability.Tests;

/// <summary>
/// The dashboard at <c>/</c> in a real browser (Debian's headless chromium driven by Playwright) against
/// an edge → gateway → cloud hierarchy of agent processes. Screenshots of each state are saved under
/// <c>artifacts/test-results/screenshots</c>.
/// </summary>
public sealed class DashboardTests
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly string[] Fast = ["--fleet-report-interval", "500ms", "--fleet-stale-after", "3s", "--uplink-max-backoff", "500ms"];

    [Fact]
    public async Task CloudPage_ShowsTheTree_MarksAKilledGatewayDown_AndHealsOnRestart()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (a test peer in build.cake)");
        using var dir = new TempDirectory();
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", [.. Fast, "--node-id", "cloud-1"]);
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", [.. Fast, "--node-id", "gateway-1", "--parent", $"127.0.0.1:{cloud.UplinkPort}"]);
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", [.. Fast, "--node-id", "edge-1", "--parent", $"127.0.0.1:{gateway.UplinkPort}", "--partitions", "1"]);
        var topic = Unique.Name("dash");
        Scrape.Produce(edge, topic, 50);
        var group = Unique.Name("dash-readers");
        Scrape.CommitOffset(edge, group, topic, 0, 20);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // Root in a container: chromium's sandbox needs user namespaces it may not have.
            Args = ["--no-sandbox"],
        });
        var cloudPage = await browser.NewPageAsync();
        var failed = new List<string>();
        cloudPage.RequestFailed += (_, r) => { lock (failed) failed.Add(r.Url); };
        await cloudPage.GotoAsync($"http://127.0.0.1:{cloud.HttpPort}/");

        await UntilAsync(cloudPage, "three nodes and two links up",
            "() => document.querySelectorAll('tr.node').length === 3 && document.querySelectorAll('tr.node[data-link=up]').length === 2");
        Assert.Equal("cloud-1", await cloudPage.EvaluateAsync<string>("() => document.querySelector('tr.node').dataset.node"));
        Assert.False(await cloudPage.IsVisibleAsync("#banner"));
        await ShotAsync(cloudPage, "1-healthy");

        // A node's detail at the cloud: a click on the edge's row shows its figures, its parent and its one group 30 behind among them.
        await cloudPage.ClickAsync("tr.node[data-node=\"edge-1\"]");
        await UntilAsync(cloudPage, "the edge's detail",
            "() => document.getElementById('detail-title').textContent === 'edge-1' && document.getElementById('detail').textContent.includes('gateway-1')"
            + " && document.getElementById('detail').textContent.includes('1, 30 records behind')"
            + " && document.querySelector('tr.node[data-node=\"edge-1\"]').classList.contains('selected')");
        await ShotAsync(cloudPage, "1b-edge-detail");

        // The edge's own page: no banner while its parent answers.
        var edgePage = await browser.NewPageAsync();
        await edgePage.GotoAsync($"http://127.0.0.1:{edge.HttpPort}/");
        await UntilAsync(edgePage, "the edge's own row", "() => document.querySelectorAll('tr.node').length === 1");
        Assert.False(await edgePage.IsVisibleAsync("#banner"));
        // Its topics and consumer groups: the topic holds 50 records; the group committed 20 of them.
        await UntilAsync(edgePage, "the topic with 50 records and the group 30 behind",
            $"() => document.querySelector('tr[data-topic=\"{topic}\"] td:nth-child(3)')?.textContent === '50'"
            + $" && document.querySelector('tr[data-group=\"{group}\"] td:nth-child(4)')?.textContent === '30'");

        await gateway.KillAsync();
        var killed = DateTime.UtcNow;
        await UntilAsync(cloudPage, "the gateway's and the edge's links down",
            "() => document.querySelectorAll('tr.node[data-link=down]').length === 2", TimeSpan.FromSeconds(10));
        Assert.True(DateTime.UtcNow - killed < TimeSpan.FromSeconds(10));
        await ShotAsync(cloudPage, "2-gateway-down");

        // At the edge: a banner names the unreachable parent, and the lag grows as records arrive.
        Scrape.Produce(edge, topic, 30);
        await UntilAsync(edgePage, "the unreachable-parent banner and a growing lag",
            "() => document.getElementById('banner').classList.contains('show') && document.getElementById('banner').textContent.includes('unreachable')"
            + " && Number(document.querySelector('tr.node td.num').textContent) >= 30"
            + $" && document.querySelector('tr[data-group=\"{group}\"] td:nth-child(4)')?.textContent === '60'");
        // Its throughput sparkline has drawn the 30 new records: a point above the zero line (y 46 of 48).
        await UntilAsync(edgePage, "a non-zero point on the sparkline",
            "() => document.querySelector('#spark polyline').getAttribute('points').split(' ').some(p => Number(p.split(',')[1]) < 46)");
        await ShotAsync(edgePage, "3-edge-parent-unreachable");

        await gateway.RestartAsync();
        await UntilAsync(cloudPage, "both links up again",
            "() => document.querySelectorAll('tr.node').length === 3 && document.querySelectorAll('tr.node[data-link=up]').length === 2");
        await UntilAsync(edgePage, "the banner gone", "() => !document.getElementById('banner').classList.contains('show')");
        await ShotAsync(cloudPage, "4-healed");
        Assert.Empty(failed);
    }

    [Fact]
    public async Task ThousandNodes_CollapsedPerGateway_CountDownLinks_AndSearchable()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (a test peer in build.cake)");
        using var dir = new TempDirectory();
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", [.. Fast, "--node-id", "cloud-1"]);
        // The cloud's real status, its fleet grown to 1 000 nodes below 12 gateways (shapes stay the node's own).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var fleet = ThousandNodeStatus(await http.GetStringAsync($"http://127.0.0.1:{cloud.HttpPort}/v1/status"), out var downUnderGw3);
        // The page is the whole dashboard (no other resource): its budget is 200 KB compressed.
        var html = await http.GetByteArrayAsync($"http://127.0.0.1:{cloud.HttpPort}/");
        using (var compressed = new MemoryStream())
        {
            using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(html);
            Assert.True(compressed.Length < 200 * 1024, $"dashboard is {compressed.Length} bytes gzipped");
        }
        // Offline: the page names no other host (no CDN script, stylesheet or font).
        Assert.DoesNotMatch(@"(src|href)\s*=\s*[""']?(https?:)?//|@import|url\(", System.Text.Encoding.UTF8.GetString(html));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync();
        await page.RouteAsync("**/v1/status", route => route.FulfillAsync(new RouteFulfillOptions { ContentType = "application/json", Body = fleet }));
        await page.GotoAsync($"http://127.0.0.1:{cloud.HttpPort}/");

        await UntilAsync(page, "1001 nodes counted", "() => document.getElementById('counts').textContent.startsWith('1001 nodes')");
        // A big tree shows every gateway, only the edges whose link is down, and one row per gateway aggregating its healthy rest.
        Assert.Equal(1 + 12 + downUnderGw3, await page.EvaluateAsync<int>("() => document.querySelectorAll('tr.node').length"));
        Assert.Equal(downUnderGw3, await page.EvaluateAsync<int>("() => document.querySelectorAll('tr.node[data-link=down]').length"));
        Assert.Equal(12, await page.EvaluateAsync<int>("() => document.querySelectorAll('td.more').length"));
        var gw3More = await page.EvaluateAsync<string>("() => document.querySelector('td.more[data-more=\"gw-03\"]').textContent");
        Assert.Contains($"{EdgesUnder(3) - downUnderGw3} more (0 down", gw3More);
        await ShotAsync(page, "5-thousand-nodes");

        await page.FillAsync("#search", "edge-0500");
        await UntilAsync(page, "the path to edge-0500 only", "() => [...document.querySelectorAll('tr.node')].map(r => r.dataset.node).join(',') === 'cloud-1,gw-" + (500 % 12).ToString("00") + ",edge-0500'");
        await page.FillAsync("#search", "");
        await page.ClickAsync("td.more[data-more=\"gw-03\"]");
        await UntilAsync(page, "gw-03's edges all shown", $"() => document.querySelectorAll('tr.node').length === {1 + 12 + EdgesUnder(3)}");
    }

    private const int Edges = 988;

    private static int EdgesUnder(int gateway) => Enumerable.Range(0, Edges).Count(i => i % 12 == gateway);

    private static string ThousandNodeStatus(string statusJson, out int downUnderGw3)
    {
        var status = System.Text.Json.Nodes.JsonNode.Parse(statusJson)!;
        var nodes = status["fleet"]!["nodes"]!.AsArray();
        var self = nodes[0]!;
        System.Text.Json.Nodes.JsonNode Node(string id, string role, string parent, bool up)
        {
            var n = self.DeepClone();
            n["nodeId"] = id;
            n["role"] = role;
            n["parentId"] = parent;
            n["parentAddress"] = parent + ":7950";
            n["parentConnected"] = up;
            n["state"] = up ? "ok" : "stale";
            return n;
        }
        for (var g = 0; g < 12; g++) nodes.Add(Node($"gw-{g:00}", "gateway", "cloud-1", true));
        downUnderGw3 = 0;
        for (var i = 0; i < Edges; i++)
        {
            var gateway = i % 12;
            // Under gw-03, every 7th edge is down.
            var up = !(gateway == 3 && i % 7 == 0);
            if (!up) downUnderGw3++;
            nodes.Add(Node($"edge-{i:0000}", "edge", $"gw-{gateway:00}", up));
        }
        return status.ToJsonString();
    }

    private static async Task UntilAsync(IPage page, string what, string predicate, TimeSpan? timeout = null)
    {
        var done = await Wait.UntilAsync(async () => await page.EvaluateAsync<bool>(predicate), timeout ?? TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
        if (!done) await ShotAsync(page, "failed-" + string.Concat(what.Where(char.IsLetterOrDigit)));
        Assert.True(done, $"the page never showed {what}; it shows:\n{await page.InnerTextAsync("body")}");
    }

    private static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, $"dashboard-{name}.png"), FullPage = true });

    // Next to the TRX files (artifacts/test-results) when run from the repository, else the test's own folder.
    private static string ScreenshotDirectory { get; } = FindScreenshotDirectory();

    private static string FindScreenshotDirectory()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "EdgeStream.sln")))
                return Directory.CreateDirectory(Path.Combine(d.FullName, "artifacts", "test-results", "screenshots")).FullName;
        }
        return Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;
    }
}
