using EdgeStream.Uplink.Grpc;

namespace EdgeStream.Uplink.Fleet;

/// <summary>
/// At a parent: the latest report of every node below it, as its children sent them (a gateway's
/// report carries its children's), with when each was last heard of here. Times are this process's
/// monotonic clock: a report says how old its entries are, so no two nodes' clocks are compared.
/// Bounded: at most <see cref="MaxNodes"/> nodes, and a node not heard of for <see cref="ForgetAfter"/> is forgotten.
/// </summary>
public sealed class FleetRegistry
{
    public const int MaxNodes = 10_000;
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    private readonly object _lock = new();
    private readonly Dictionary<string, FleetEntry> _nodes = new(StringComparer.Ordinal);
    private readonly Func<long> _nowMs;
    private long _refused;

    public FleetRegistry(string selfId, Func<long>? nowMs = null)
    {
        SelfId = selfId;
        _nowMs = nowMs ?? (static () => Environment.TickCount64);
    }

    /// <summary>This node's id: entries naming it are ignored (a loop), and its children's reports get it as their parent.</summary>
    public string SelfId { get; }

    /// <summary>Nodes not recorded because <see cref="MaxNodes"/> was reached.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public long NowMs => _nowMs();

    /// <summary>Records what direct child <paramref name="childId"/> reported: itself and what it relays.</summary>
    public void Accept(string childId, FleetReport report)
    {
        var now = _nowMs();
        lock (_lock)
        {
            foreach (var node in report.Nodes)
            {
                if (node.NodeId.Length == 0 || string.Equals(node.NodeId, SelfId, StringComparison.Ordinal)) continue;
                var heard = now - Math.Max(0, node.AgeMs);
                if (_nodes.TryGetValue(node.NodeId, out var existing))
                {
                    if (existing.HeardAtMs > heard) continue; // an older relay of a node heard of more recently
                }
                else if (_nodes.Count >= MaxNodes)
                {
                    _refused++;
                    continue;
                }
                var copy = node.Clone();
                // A node's own report does not know its parent's id; the node that received it does.
                if (copy.ParentId.Length == 0) copy.ParentId = string.Equals(copy.NodeId, childId, StringComparison.Ordinal) ? SelfId : childId;
                copy.AgeMs = 0;
                _nodes[node.NodeId] = new FleetEntry(copy, heard, childId);
            }
            Forget(now);
        }
    }

    /// <summary>Every node known below this one, oldest-heard last.</summary>
    public List<FleetEntry> Snapshot()
    {
        lock (_lock)
        {
            Forget(_nowMs());
            var list = new List<FleetEntry>(_nodes.Values);
            list.Sort(static (a, b) => b.HeardAtMs.CompareTo(a.HeardAtMs));
            return list;
        }
    }

    /// <summary>The entries as a parent should receive them: each with its age now.</summary>
    public List<NodeReport> ForRelay()
    {
        var now = _nowMs();
        var list = new List<NodeReport>();
        foreach (var entry in Snapshot())
        {
            var copy = entry.Report.Clone();
            copy.AgeMs = Math.Max(0, now - entry.HeardAtMs);
            list.Add(copy);
        }
        return list;
    }

    private void Forget(long now)
    {
        List<string>? gone = null;
        foreach (var (id, entry) in _nodes)
            if (now - entry.HeardAtMs > ForgetAfter.TotalMilliseconds) (gone ??= []).Add(id);
        if (gone is null) return;
        foreach (var id in gone) _nodes.Remove(id);
    }
}

/// <summary>One node's latest report, when it was last heard of (<see cref="FleetRegistry.NowMs"/> clock) and through which child.</summary>
public sealed record FleetEntry(NodeReport Report, long HeardAtMs, string Via);
