namespace EdgeStream.Hosting.Configuration;

/// <summary>How the node trades memory for throughput (<c>--profile</c>).</summary>
public enum MemoryProfile
{
    /// <summary><see cref="Small"/> when the memory the process may use (RAM or its cgroup limit) is below <see cref="MemoryProfiles.AutoSmallBelowBytes"/>, else <see cref="Default"/>.</summary>
    Auto,
    /// <summary>The runtime's defaults: throughput first.</summary>
    Default,
    /// <summary>A small device: workstation non-concurrent GC that conserves memory with a 4 MiB gen0 budget, one socket I/O thread.</summary>
    Small,
}

/// <summary>What each profile means, in one place: the GC knobs and the threshold of <see cref="MemoryProfile.Auto"/>.</summary>
public static class MemoryProfiles
{
    /// <summary>Below 1 GiB available (a Raspberry Pi 3, a unit with MemoryMax) <c>auto</c> picks <c>small</c>.</summary>
    public const long AutoSmallBelowBytes = 1L << 30;

    /// <summary>The share of <c>--memory-limit</c> the GC heap may take; the rest is for mapped segments, stacks and native buffers.</summary>
    public const double HeapShareOfLimit = 0.75;

    public static string ToText(this MemoryProfile profile) => profile switch
    {
        MemoryProfile.Auto => "auto",
        MemoryProfile.Default => "default",
        MemoryProfile.Small => "small",
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };

    public static MemoryProfile Parse(string s) => s.Trim().ToLowerInvariant() switch
    {
        "auto" => MemoryProfile.Auto,
        "default" => MemoryProfile.Default,
        "small" => MemoryProfile.Small,
        _ => throw new FormatException("expected auto, default or small"),
    };

    /// <summary>
    /// The profile in effect: <see cref="MemoryProfile.Auto"/> resolved against <c>--memory-limit</c> when given, else
    /// against <paramref name="availableBytes"/> (RAM, or the cgroup limit such as a unit's MemoryMax). Not against a
    /// heap hard limit this process already runs with, so the answer is the same before and after the GC settings apply.
    /// </summary>
    public static MemoryProfile Resolve(MemoryProfile profile, long memoryLimitBytes, long availableBytes)
    {
        if (profile != MemoryProfile.Auto) return profile;
        var budget = memoryLimitBytes > 0 ? memoryLimitBytes : availableBytes;
        return budget > 0 && budget < AutoSmallBelowBytes ? MemoryProfile.Small : MemoryProfile.Default;
    }

    /// <summary>
    /// The runtime's GC settings for a profile and memory limit, as <c>DOTNET_*</c> environment variables (GC knobs are
    /// read once at process start, also by NativeAOT, so they cannot be changed from inside a running process). Empty
    /// for the default profile without a limit. Values are hexadecimal, as the runtime reads them.
    /// </summary>
    public static IReadOnlyDictionary<string, string> GcEnvironment(MemoryProfile effective, long memoryLimitBytes)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (effective == MemoryProfile.Small)
        {
            // One heap, collected on the allocating thread (no background GC thread), compacting sooner to give memory back.
            env["DOTNET_gcServer"] = "0";
            env["DOTNET_gcConcurrent"] = "0";
            env["DOTNET_GCConserveMemory"] = "7";
            // A smaller allocation budget between gen0 collections: more frequent, shorter GCs, a smaller working set.
            env["DOTNET_GCGen0MaxBudget"] = "400000";
        }
        if (memoryLimitBytes > 0)
            env["DOTNET_GCHeapHardLimit"] = ((long)(memoryLimitBytes * HeapShareOfLimit)).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        return env;
    }
}
