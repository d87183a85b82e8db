using System.Net;

namespace EdgeStream.Mesh.Membership.Simulation;

/// <summary>One member of a <see cref="SimulatedCluster"/>: its current instance and its history.</summary>
public sealed class SimulatedMember
{
    internal SimulatedMember(string nodeId, IPEndPoint endPoint)
    {
        NodeId = nodeId;
        EndPoint = endPoint;
    }

    public string NodeId { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>The current instance (a restart replaces it).</summary>
    public SwimMembership Membership { get; internal set; } = null!;

    public SimulatedTransport Transport { get; internal set; } = null!;

    /// <summary>False after a kill or a leave, until a restart.</summary>
    public bool IsRunning { get; internal set; }

    /// <summary>Its own incarnation when last killed, -1 if never: a later death of that or a lower incarnation is old news, not a false positive.</summary>
    public long KilledAtIncarnation { get; internal set; } = -1;

    public override string ToString() => NodeId;
}

/// <summary>
/// Many <see cref="SwimMembership"/> instances on one <see cref="SimulatedNetwork"/> and clock,
/// deterministic under the seed: what the tests and <c>edgestream-bench mesh</c> run.
/// </summary>
public sealed class SimulatedCluster
{
    private readonly List<SimulatedMember> _members = [];
    private readonly Random _random;
    private readonly MembershipOptions _template;

    /// <param name="seed">Seeds the network and every member's engine.</param>
    /// <param name="template">Options every member gets (its node id and random seed replaced). Default: the library defaults.</param>
    public SimulatedCluster(int seed, MembershipOptions? template = null)
    {
        _random = new Random(seed);
        Clock = new SimulatedClock();
        Network = new SimulatedNetwork(Clock, _random.Next());
        _template = template ?? new MembershipOptions { NodeId = "template", Role = "edge" };
    }

    public SimulatedClock Clock { get; }

    public SimulatedNetwork Network { get; }

    public IReadOnlyList<SimulatedMember> Members => _members;

    public SimulatedMember this[int index] => _members[index];

    /// <summary>
    /// Raised for every change in every member's view: (observer, change). Subscribe before adding
    /// members; instances created later (restarts) are wired too.
    /// </summary>
    public event Action<SimulatedMember, MemberChangedEventArgs>? Changed;

    /// <summary>Adds and starts <paramref name="count"/> members (<c>node-000</c>…), not yet joined.</summary>
    public IReadOnlyList<SimulatedMember> AddMembers(int count, Func<MembershipOptions, MembershipOptions>? customize = null)
    {
        var added = new List<SimulatedMember>(count);
        for (var i = 0; i < count; i++)
        {
            var index = _members.Count + 1;
            var member = new SimulatedMember($"node-{_members.Count:D3}", new IPEndPoint(new IPAddress([10, (byte)(index >> 16), (byte)(index >> 8), (byte)index]), 7946));
            _members.Add(member);
            StartInstance(member, customize);
            added.Add(member);
        }
        return added;
    }

    /// <summary>Joins every member in <paramref name="members"/> (default: all) through the first member.</summary>
    public void JoinAll(IEnumerable<SimulatedMember>? members = null)
    {
        var seed = _members[0].EndPoint;
        foreach (var m in members ?? _members)
            if (m.EndPoint != seed) _ = m.Membership.JoinAsync([seed]);
    }

    /// <summary>Crashes a member: no leave, silence from now on.</summary>
    public void Kill(SimulatedMember member)
    {
        member.KilledAtIncarnation = member.Membership.Local.Incarnation;
        member.IsRunning = false;
        Network.Kill(member.EndPoint);
    }

    /// <summary>
    /// Starts a fresh instance of a killed member (incarnation 0, same id and address) and joins it
    /// through <paramref name="seed"/>; with no seed it starts alone, knowing nobody (a node restarted
    /// without seeds or mDNS), and the others must find it.
    /// </summary>
    public void Restart(SimulatedMember member, SimulatedMember? seed, Func<MembershipOptions, MembershipOptions>? customize = null)
    {
        StartInstance(member, customize);
        if (seed is not null) _ = member.Membership.JoinAsync([seed.EndPoint]);
        else member.Membership.Start();
    }

    /// <summary>Starts a graceful leave (it completes as the clock runs).</summary>
    public Task LeaveAsync(SimulatedMember member)
    {
        member.IsRunning = false;
        return member.Membership.LeaveAsync();
    }

    public bool RunUntil(Func<bool> condition, TimeSpan limit) => Clock.RunUntil(condition, limit);

    public void RunFor(TimeSpan duration) => Clock.RunFor(duration);

    /// <summary>
    /// True when every running member sees every other running member alive, and every stopped
    /// one dead, left, or not at all.
    /// </summary>
    public bool Converged()
    {
        foreach (var observer in _members)
        {
            if (!observer.IsRunning) continue;
            foreach (var subject in _members)
            {
                if (subject == observer) continue;
                var known = observer.Membership.TryGetMember(subject.NodeId, out var m);
                if (subject.IsRunning ? !known || m.State != MemberState.Alive : known && m.IsLive) return false;
            }
        }
        return true;
    }

    /// <summary>How many running members see <paramref name="subject"/> in one of <paramref name="states"/>.</summary>
    public int CountViews(SimulatedMember subject, params MemberState[] states)
    {
        var n = 0;
        foreach (var observer in _members)
        {
            if (!observer.IsRunning || observer == subject) continue;
            if (observer.Membership.TryGetMember(subject.NodeId, out var m) && Array.IndexOf(states, m.State) >= 0) n++;
        }
        return n;
    }

    private void StartInstance(SimulatedMember member, Func<MembershipOptions, MembershipOptions>? customize)
    {
        var transport = Network.Attach(member.EndPoint);
        var options = _template with { NodeId = member.NodeId, RandomSeed = _random.Next() };
        if (customize is not null) options = customize(options);
        var membership = new SwimMembership(options, transport, transport.Host.Clock);
        // Only with a listener: an engine without handlers builds no event objects.
        if (Changed is not null) membership.MemberChanged += (_, e) => Changed?.Invoke(member, e);
        member.Membership = membership;
        member.Transport = transport;
        member.IsRunning = true;
        membership.Start();
    }
}
