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
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", [.. Fast, "--node-id", "edge-1", "--parent", $"127.0.0.1:{gateway.UplinkPort}"]);
        var topic = Unique.Name("dash");
        Scrape.Produce(edge, topic, 50);

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

        // The edge's own page: no banner while its parent answers.
        var edgePage = await browser.NewPageAsync();
        await edgePage.GotoAsync($"http://127.0.0.1:{edge.HttpPort}/");
        await UntilAsync(edgePage, "the edge's own row", "() => document.querySelectorAll('tr.node').length === 1");
        Assert.False(await edgePage.IsVisibleAsync("#banner"));

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
            + " && Number(document.querySelector('tr.node td.num').textContent) >= 30");
        await ShotAsync(edgePage, "3-edge-parent-unreachable");

        await gateway.RestartAsync();
        await UntilAsync(cloudPage, "both links up again",
            "() => document.querySelectorAll('tr.node').length === 3 && document.querySelectorAll('tr.node[data-link=up]').length === 2");
        await UntilAsync(edgePage, "the banner gone", "() => !document.getElementById('banner').classList.contains('show')");
        await ShotAsync(cloudPage, "4-healed");
        Assert.Empty(failed);
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
