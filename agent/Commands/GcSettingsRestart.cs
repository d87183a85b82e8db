using System.Runtime.InteropServices;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// Puts a memory profile's GC settings into effect. The runtime reads GC knobs once, at process start (NativeAOT
/// included), so when the environment lacks them the process replaces itself with execve(2): same PID (systemd's
/// main process stays the same), same arguments from /proc/self/cmdline, the environment plus the knobs. At most once:
/// the restarted process carries <see cref="Marker"/>.
/// </summary>
internal static partial class GcSettingsRestart
{
    public const string Marker = "EDGESTREAM_GC_SETTINGS_APPLIED";

    /// <summary>Returns when nothing needs to change, or when the restart failed (the node then runs with the current GC).</summary>
    public static void ApplyOrContinue(IReadOnlyDictionary<string, string> gcEnvironment, TextWriter stderr)
    {
        if (gcEnvironment.Count == 0 || Environment.GetEnvironmentVariable(Marker) is not null) return;
        var missing = false;
        foreach (var (key, _) in gcEnvironment)
        {
            // A knob the operator set explicitly wins; only absent ones are added.
            if (Environment.GetEnvironmentVariable(key) is null) missing = true;
        }
        if (!missing || !OperatingSystem.IsLinux()) return;

        string[] argv;
        try
        {
            argv = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        }
        catch (IOException)
        {
            return;
        }
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            if (e.Key is string k && e.Value is string v) env[k] = v;
        foreach (var (key, value) in gcEnvironment) env.TryAdd(key, value);
        env[Marker] = "1";

        Console.Out.Flush();
        stderr.Flush();
        execve("/proc/self/exe", NullTerminated(argv), NullTerminated(env.Select(p => $"{p.Key}={p.Value}")));
        // Only reached when execve failed.
        stderr.WriteLine($"edgestream: could not restart with the memory profile's GC settings (errno {Marshal.GetLastPInvokeError()}); running with the current ones");
    }

    /// <summary>A C string array (char*[] ending in NULL). Never freed: on success the process image is replaced, on failure it is a few bytes once.</summary>
    private static IntPtr[] NullTerminated(IEnumerable<string> values) => [.. values.Select(Marshal.StringToCoTaskMemUTF8), IntPtr.Zero];

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execve(string path, IntPtr[] argv, IntPtr[] envp);
}
