using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

/// <summary>Starting agents with CDC sources and waiting on their <c>/v1/status</c> cdc entries.</summary>
public static class CdcAgent
{
    public static Task<AgentNode> StartAsync(string directory, params string[] sources) => StartAsync(directory, "edge", sources, []);

    public static Task<AgentNode> StartAsync(string directory, string role, IEnumerable<string> sources, IEnumerable<string> extra)
    {
        var args = new List<string> { "--fsync", "group" };
        foreach (var s in sources) args.AddRange(["--cdc", s]);
        args.AddRange(extra);
        return AgentNode.StartAsync(directory, role, [.. args]);
    }

    /// <summary>The status entry of source <paramref name="name"/>.</summary>
    public static async Task<JsonElement?> SourceAsync(AgentNode node, string name)
    {
        var status = await node.StatusAsync();
        if (!status.TryGetProperty("cdc", out var cdc)) return null;
        foreach (var s in cdc.EnumerateArray())
            if (s.GetProperty("name").GetString() == name) return s.Clone();
        return null;
    }

    public static async Task WaitForStateAsync(AgentNode node, string name, string state, TimeSpan timeout)
    {
        JsonElement? last = null;
        var ok = await Wait.UntilAsync(async () =>
        {
            last = await SourceAsync(node, name);
            return last?.GetProperty("state").GetString() == state;
        }, timeout, TimeSpan.FromMilliseconds(100));
        Assert.True(ok, $"source {name} not {state} within {timeout}: {last}\n{node.Process.Stdout[^Math.Min(4000, node.Process.Stdout.Length)..]}");
    }

    /// <summary>Waits until the topic holds at least <paramref name="count"/> records.</summary>
    public static async Task WaitForCountAsync(AgentNode node, string topic, long count, TimeSpan timeout)
    {
        long last = 0;
        var ok = await Wait.UntilAsync(() => (last = CdcRecord.CountOf(node.Bootstrap, topic)) >= count, timeout, TimeSpan.FromMilliseconds(200));
        Assert.True(ok, $"{topic}: {last} records, expected {count} within {timeout}\n{node.Process.Stdout[^Math.Min(4000, node.Process.Stdout.Length)..]}");
    }
}
