namespace EdgeStream.Mesh.Membership.Simulation;

/// <summary>
/// Watches every view of a simulated cluster: detection time of each kill (kill to the first
/// "dead" verdict anywhere) and false positives (a running member declared dead at an incarnation
/// newer than the one it was killed at, i.e. not old news about an earlier crash).
/// </summary>
public sealed class FailureRecorder
{
    private readonly SimulatedCluster _cluster;
    private readonly Dictionary<string, SimulatedMember> _byId = [];
    private readonly Dictionary<string, TimeSpan> _killedAt = [];
    private readonly Dictionary<string, TimeSpan> _awaitingAll = [];

    public FailureRecorder(SimulatedCluster cluster)
    {
        _cluster = cluster;
        cluster.Changed += OnChanged;
    }

    /// <summary>Seconds from each kill to its first dead verdict.</summary>
    public List<double> Detections { get; } = [];

    /// <summary>Seconds from each kill until every running member held it dead.</summary>
    public List<double> AllAware { get; } = [];

    /// <summary>Views that saw a running member dead.</summary>
    public int FalseViews { get; private set; }

    /// <summary>Verdicts (suspicion timeouts) against running members: the independent false positives.</summary>
    public List<string> FalseVerdicts { get; } = [];

    /// <summary>Suspicions of running members that were raised here (each one was refuted or became a false verdict).</summary>
    public int FalseSuspicions { get; private set; }

    public int Pending => _killedAt.Count;

    /// <summary>Kills <paramref name="member"/> (through the cluster) and starts timing its detection.</summary>
    public void Kill(SimulatedMember member)
    {
        _killedAt[member.NodeId] = _cluster.Clock.Elapsed;
        _awaitingAll[member.NodeId] = _cluster.Clock.Elapsed;
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
        else
        {
            if (_killedAt.Remove(subject.NodeId, out var at)) Detections.Add((_cluster.Clock.Elapsed - at).TotalSeconds);
            if (_awaitingAll.TryGetValue(subject.NodeId, out var since) && !subject.IsRunning
                && _cluster.CountViews(subject, MemberState.Dead, MemberState.Left) == _cluster.Members.Count(m => m.IsRunning))
            {
                _awaitingAll.Remove(subject.NodeId);
                AllAware.Add((_cluster.Clock.Elapsed - since).TotalSeconds);
            }
        }
    }
}
