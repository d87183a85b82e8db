using System.Globalization;

namespace EdgeStream.Bench;

/// <summary>
/// CPU time a process has used, from <c>/proc/PID/stat</c>. On a shared machine the wall-clock rate of a
/// run swings with what the neighbours do; the CPU a node spent on a fixed amount of work swings far less,
/// so comparisons of two settings (scraped or not) read it next to the rate.
/// </summary>
public static class ProcessCpu
{
    // USER_HZ: the unit of utime/stime in /proc, fixed at 100 by the kernel ABI on x86-64 and arm64.
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds of <paramref name="pid"/> so far; 0 once the process is gone.</summary>
    public static double Seconds(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return 0;
        }
        // The command name (field 2) is in parentheses and may hold spaces: fields are counted after its ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }
}
