namespace EdgeStream.Bench;

/// <summary>
/// Scrapes a fresh node's <c>/metrics</c> before a scraped run is measured, as a Prometheus server that has
/// been watching it for a while would have. Under the JIT the exporter's code runs unoptimized until each
/// method has been called about 30 times and is then compiled again in the background: on the bench
/// machine the first ~40 scrapes of a process cost ~20 ms of CPU each, later ones under 1 ms. A measured
/// run of 10–20 scrapes without this warm-up weighs that one-off start-up cost, not the cost of being
/// observed (the NativeAOT binary has no such phase).
/// </summary>
public static class ScrapeWarmUp
{
    public const int Scrapes = 60;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(50);

    public static async Task RunAsync(string agent, int[] httpPorts)
    {
        // A NativeAOT agent is compiled ahead of time: nothing to warm up, and waiting would only shift the run.
        if (!agent.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) return;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < Scrapes; i++)
        {
            foreach (var port in httpPorts) await http.GetByteArrayAsync($"http://127.0.0.1:{port}/metrics");
            // Spaced out: the runtime recompiles hot methods in the background once calls pause.
            await Task.Delay(Pause);
        }
    }
}
