namespace EdgeStream.Kafka.Server;

/// <summary>
/// The request bytes one connection has in progress. Many requests in flight let concurrent produces
/// share one group-commit fsync; a bound on their bytes keeps a client of large requests from
/// holding memory for all of them at once. One request is always admitted, however large
/// (it is already bounded by the maximum request size). One reader admits, one writer releases.
/// </summary>
internal sealed class InFlightBytes(long budget)
{
    private readonly object _gate = new();
    private long _bytes;
    private TaskCompletionSource? _released;

    /// <summary>Waits until <paramref name="bytes"/> more fit in the budget (or nothing is in flight), then counts them.</summary>
    public async ValueTask AdmitAsync(int bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_bytes == 0 || _bytes + bytes <= budget)
                {
                    _bytes += bytes;
                    return;
                }
                _released ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _released.Task;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A request's response is written: its bytes no longer count.</summary>
    public void Release(int bytes)
    {
        TaskCompletionSource? released;
        lock (_gate)
        {
            _bytes -= bytes;
            released = _released;
            _released = null;
        }
        released?.TrySetResult();
    }
}
