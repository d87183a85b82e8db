using System.Globalization;

namespace EdgeStream.Bench;

/// <summary>
/// CPU time and resident memory of a server process from <c>/proc</c> (Linux only), and the host's
/// load average: what a run costs the server, whatever language it is written in.
/// </summary>
public static class ProcessStats
{
    // USER_HZ: the unit of utime/stime in /proc/PID/stat, 100 on every Linux the bench runs on.
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds the process has used so far (<c>/proc/PID/stat</c> utime + stime).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / TicksPerSecond;
    }

    /// <summary>Resident set size in MiB (<c>VmRSS</c> of <c>/proc/PID/status</c>), NaN when not found.</summary>
    public static double RssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0;
        }
        return double.NaN;
    }

    /// <summary>The 1-minute load average (<c>/proc/loadavg</c>): the machine is shared, so every row says how busy it was.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
}
