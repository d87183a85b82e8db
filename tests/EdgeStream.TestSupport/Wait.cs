using System.Diagnostics;

namespace EdgeStream.TestSupport;

/// <summary>
/// Bounded polling for conditions that settle in another process or thread: the one way tests wait.
/// A test never sleeps a fixed time and hopes; it polls a condition with a deadline here, or, to show
/// that something does NOT happen, waits for a positive sign that the system got past the point where
/// it would have happened.
/// </summary>
public static class Wait
{
    /// <summary>How often a condition is polled unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes; false then.</summary>
    public static Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout, TimeSpan? interval = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, interval);

    /// <summary>Polls an asynchronous <paramref name="condition"/> (an HTTP or Kafka request, say) until it holds or the deadline passes; false then.</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? interval = null) =>
        (await UntilAsync(condition, static held => held, timeout, interval)).Done;

    /// <summary>
    /// Polls <paramref name="probe"/> until <paramref name="done"/> holds for its value or the deadline
    /// passes; returns whether it held and the last value seen (for the caller's assertion message).
    /// </summary>
    public static async Task<(bool Done, T Last)> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, TimeSpan? interval = null)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            // The last probe starts at or after the deadline: a condition that holds by then still counts.
            var expired = sw.Elapsed >= timeout;
            var value = await probe();
            if (done(value)) return (true, value);
            if (expired) return (false, value);
            await Task.Delay(interval ?? DefaultInterval);
        }
    }
}
