using System.Text.Json;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// The <c>fleet</c> object of <c>/v1/status</c> as a tree: the node that answered first, each node under
/// the one it reports to. Shared by <c>status</c> (a table) and <c>top</c> (a live view).
/// </summary>
internal static class FleetTree
{
    /// <summary>One row: the node and how deep it sits (0 = the node asked, or a node whose parent is not known here).</summary>
    public readonly record struct Row(JsonElement Node, int Depth, bool Last, string Prefix);

    public static List<Row> Rows(JsonElement fleet)
    {
        var nodes = fleet.GetProperty("nodes").EnumerateArray().ToList();
        var ids = new HashSet<string>(nodes.Select(n => StatusClient.Text(n, "nodeId")), StringComparer.Ordinal);
        var children = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        var roots = new List<JsonElement>();
        foreach (var n in nodes)
        {
            var parent = StatusClient.Text(n, "parentId");
            if (parent.Length > 0 && ids.Contains(parent) && parent != StatusClient.Text(n, "nodeId"))
            {
                if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
                list.Add(n);
            }
            else roots.Add(n);
        }
        var rows = new List<Row>(nodes.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < roots.Count; i++) Walk(roots[i], 0, i == roots.Count - 1, "", children, rows, seen);
        return rows;
    }

    private static void Walk(JsonElement node, int depth, bool last, string indent, Dictionary<string, List<JsonElement>> children, List<Row> rows, HashSet<string> seen)
    {
        var id = StatusClient.Text(node, "nodeId");
        if (!seen.Add(id)) return; // a report that loops: shown once
        rows.Add(new Row(node, depth, last, depth == 0 ? "" : indent + (last ? "└─ " : "├─ ")));
        if (!children.TryGetValue(id, out var kids)) return;
        kids.Sort(static (a, b) => string.CompareOrdinal(StatusClient.Text(a, "nodeId"), StatusClient.Text(b, "nodeId")));
        var childIndent = depth == 0 ? "" : indent + (last ? "   " : "│  ");
        for (var i = 0; i < kids.Count; i++) Walk(kids[i], depth + 1, i == kids.Count - 1, childIndent, children, rows, seen);
    }

    /// <summary>The link from this node to its parent: up, down, or - when it has none.</summary>
    public static string Link(JsonElement n) =>
        StatusClient.Text(n, "parentAddress").Length == 0 && StatusClient.Text(n, "parentId").Length == 0 ? "-"
        : n.GetProperty("parentConnected").GetBoolean() ? "up" : "down";

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0}GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0}MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0}KiB",
        _ => $"{bytes}B",
    };

    public static string Disk(JsonElement n)
    {
        var used = n.GetProperty("diskUsedBytes").GetInt64();
        var budget = n.GetProperty("diskBudgetBytes").GetInt64();
        return budget > 0 ? $"{Bytes(used)}/{Bytes(budget)} ({100.0 * used / budget:0}%)" : Bytes(used);
    }
}
