using EdgeStream.Mesh.Membership;
using EdgeStream.Mesh.Membership.Simulation;

namespace EdgeStream.Mesh.Tests.Membership;

/// <summary>
/// Watches every view of a simulated cluster: detection time of each kill (kill to the first
/// "dead" verdict anywhere) and false positives (a running member declared dead at an incarnation
/// newer than the one it was killed at, i.e. not old news about an earlier crash).
/// </summary>
internal sealed class FailureRecorder
{
    private readonly SimulatedCluster _cluster;
    private readonly Dictionary<string, SimulatedMember> _byId = [];
    private readonly Dictionary<string, TimeSpan> _killedAt = [];

    public FailureRecorder(SimulatedCluster cluster)
    {
        _cluster = cluster;
        cluster.Changed += OnChanged;
    }

    /// <summary>Seconds from each kill to its first dead verdict.</summary>
    public List<double> Detections { get; } = [];

    /// <summary>Views that saw a running member dead.</summary>
    public int FalseViews { get; private set; }

    /// <summary>Verdicts (suspicion timeouts) against running members: the independent false positives.</summary>
    public List<string> FalseVerdicts { get; } = [];

    /// <summary>Suspicions of running members that were raised here (each one was refuted or became a false verdict).</summary>
    public int FalseSuspicions { get; private set; }

    public int Pending => _killedAt.Count;

    public void Kill(SimulatedMember member)
    {
        _killedAt[member.NodeId] = _cluster.Clock.Elapsed;
        _cluster.Kill(member);
    }

    private void OnChanged(SimulatedMember observer, MemberChangedEventArgs e)
    {
        if (_byId.Count != _cluster.Members.Count)
            foreach (var m in _cluster.Members) _byId[m.NodeId] = m;
        var subject = _byId[e.Member.NodeId];
        var isFalse = subject.IsRunning && e.Member.Incarnation > subject.KilledAtIncarnation;
        if (e.Kind == MemberChangeKind.Suspected && e.DeclaredHere && isFalse) FalseSuspicions++;
        if (e.Kind != MemberChangeKind.Failed) return;
        if (isFalse)
        {
            FalseViews++;
            if (e.DeclaredHere) FalseVerdicts.Add($"{observer.NodeId} declared {subject.NodeId} dead at {_cluster.Clock.Elapsed.TotalSeconds:F2}s (incarnation {e.Member.Incarnation})");
        }
        else if (_killedAt.Remove(subject.NodeId, out var at))
        {
            Detections.Add((_cluster.Clock.Elapsed - at).TotalSeconds);
        }
    }
}
