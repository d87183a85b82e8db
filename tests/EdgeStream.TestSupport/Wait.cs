using System.Diagnostics;

namespace EdgeStream.TestSupport;

/// <summary>Bounded polling for conditions that settle in another process.</summary>
public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes; false then.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (condition()) return true;
            await Task.Delay(50);
        }
        return condition();
    }
}
