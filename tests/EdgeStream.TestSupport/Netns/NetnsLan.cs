using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace EdgeStream.TestSupport;

/// <summary>
/// A LAN made of network namespaces, so that the tests' multicast and gossip never reach the host's real
/// interfaces: one namespace holds a bridge <c>br0</c>; each node namespace has <c>lo</c> up and an
/// <c>eth0</c>, one end of a veth pair whose other end (<c>vN</c>) is a port of the bridge, with
/// <c>10.201.S.(N+1)/24</c> and a multicast route. Veth pairs are created from inside the namespaces, so not
/// even a transient interface appears in the host's namespace. Names carry a prefix, the test process id
/// and a counter; leftovers of runs whose process is gone are removed first, and <see cref="Dispose"/>
/// removes this LAN (processes still running in it are killed). Each test project uses its own prefix
/// (mDNS tests <c>esmdns</c>, agent mesh tests <c>esmesh</c>), so one never removes the other's LANs.
/// </summary>
public sealed class NetnsLan : IDisposable
{
    /// <summary>The prefix of the mDNS tests' namespaces; other projects pass their own to <see cref="Create"/>.</summary>
    public const string DefaultPrefix = "esmdns";
    private static int s_counter;

    private readonly List<string> _namespaces = [];
    private readonly string _bridge;

    /// <summary>Why namespace tests cannot run here, or null when they can.</summary>
    public static string? SkipReason { get; } = FindSkipReason();

    public string Subnet { get; }
    public IReadOnlyList<string> Nodes { get; }

    private NetnsLan(int nodes, string prefix)
    {
        var n = Interlocked.Increment(ref s_counter);
        var name = $"{prefix}{Environment.ProcessId:x}x{n}";
        Subnet = $"10.201.{n % 250 + 1}";
        _bridge = $"{name}-br";
        var names = new List<string>();
        try
        {
            Ip("netns", "add", _bridge);
            _namespaces.Add(_bridge);
            Ip("-n", _bridge, "link", "set", "lo", "up");
            Ip("-n", _bridge, "link", "add", "br0", "type", "bridge");
            // No multicast snooping: every port sees every group, like the simplest switch.
            Ip("-n", _bridge, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0");
            Ip("-n", _bridge, "link", "set", "br0", "up");
            for (var i = 1; i <= nodes; i++)
            {
                var ns = $"{name}-n{i}";
                Ip("netns", "add", ns);
                _namespaces.Add(ns);
                names.Add(ns);
                Ip("-n", ns, "link", "set", "lo", "up");
                Ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", $"v{i}", "netns", _bridge);
                Ip("-n", _bridge, "link", "set", $"v{i}", "master", "br0");
                Ip("-n", _bridge, "link", "set", $"v{i}", "up");
                Ip("-n", ns, "addr", "add", $"{Address(i)}/24", "dev", "eth0");
                Ip("-n", ns, "link", "set", "eth0", "up");
                Ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        Nodes = names;
    }

    /// <summary>
    /// Creates a LAN of <paramref name="nodes"/> node namespaces named <paramref name="prefix"/>… (after
    /// removing leftovers of dead runs with that prefix). The prefix is lower-case letters only, short
    /// enough for the interface-name limit of <c>ip</c>.
    /// </summary>
    public static NetnsLan Create(int nodes, string prefix = DefaultPrefix)
    {
        RemoveLeftovers(prefix);
        return new NetnsLan(nodes, prefix);
    }

    /// <summary>The IPv4 address of node <paramref name="index"/> (1-based).</summary>
    public string Address(int index) => $"{Subnet}.{index + 1}";

    /// <summary>
    /// Gives node <paramref name="node"/> (1-based) of this LAN a second interface <paramref name="name"/>, a
    /// port of <paramref name="other"/>'s bridge with address <c>.200</c> there: a host on two LANs.
    /// </summary>
    public string Connect(int node, NetnsLan other, string name)
    {
        var ns = Nodes[node - 1];
        var port = $"x{Interlocked.Increment(ref s_counter)}";
        Ip("-n", ns, "link", "add", name, "type", "veth", "peer", "name", port, "netns", other._bridge);
        Ip("-n", other._bridge, "link", "set", port, "master", "br0");
        Ip("-n", other._bridge, "link", "set", port, "up");
        var address = $"{other.Subnet}.200";
        Ip("-n", ns, "addr", "add", $"{address}/24", "dev", name);
        Ip("-n", ns, "link", "set", name, "up");
        return address;
    }

    public void Dispose()
    {
        foreach (var ns in Enumerable.Reverse(_namespaces)) Delete(ns);
        _namespaces.Clear();
    }

    private static void Delete(string ns)
    {
        // Our own processes still inside (a test that failed half-way) go first, then the namespace; its
        // veth ends and the bridge go with it.
        var (_, pids, _) = ExternalTool.Run("ip", ["netns", "pids", ns], timeout: TimeSpan.FromSeconds(30));
        foreach (var line in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                using var p = Process.GetProcessById(pid);
                p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
        ExternalTool.Run("ip", ["netns", "del", ns], timeout: TimeSpan.FromSeconds(30));
    }

    /// <summary>Namespaces of earlier runs (our prefix) whose test process no longer exists.</summary>
    private static void RemoveLeftovers(string prefix)
    {
        var (_, list, _) = ExternalTool.Run("ip", ["netns", "list"], timeout: TimeSpan.FromSeconds(30));
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var ns = line.Split(' ', 2)[0];
            if (!ns.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var pidText = ns[prefix.Length..].Split('x', 2)[0];
            if (!int.TryParse(pidText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var pid)) continue;
            if (pid == Environment.ProcessId || ProcessExists(pid)) continue;
            Delete(ns);
        }
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void Ip(params string[] args)
    {
        var (code, stdout, stderr) = ExternalTool.Run("ip", args, timeout: TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"ip {string.Join(' ', args)} failed ({code}): {stdout}{stderr}");
    }

    private static string? FindSkipReason()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (Environment.UserName != "root" && !IsRootUid()) return "network namespaces need root (ip netns add)";
        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip") && !File.Exists("/bin/ip"))
            return "the ip command is missing (apt-get install -y iproute2)";
        return null;
    }

    private static bool IsRootUid()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("Uid:", StringComparison.Ordinal)) return line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0";
        }
        catch (IOException)
        {
        }
        return false;
    }
}

/// <summary>A fact that runs only where network namespaces can be made (root, iproute2); otherwise skipped with the reason.</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (NetnsLan.SkipReason is { } reason) Skip = reason;
    }
}
