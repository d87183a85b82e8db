using System.Collections.Concurrent;

namespace EdgeStream.Sink;

/// <summary>This node's knowledge of every target partition it writes: one state per partition, loaded from its checkpoint on first use.</summary>
internal sealed class TargetRegistry(SinkStore store)
{
    private readonly ConcurrentDictionary<(string Topic, int Partition), TargetPartitionState> _states = new();

    public TargetPartitionState Get(string topic, int partition) =>
        _states.GetOrAdd((topic, partition), static (key, s) => s.LoadTarget(key.Topic, key.Partition), store);

    /// <summary>Saves the checkpoints that changed, each under its partition's gate so no worker changes it meanwhile.</summary>
    public async Task SaveDirtyAsync(CancellationToken cancellationToken)
    {
        foreach (var state in _states.Values)
        {
            if (!state.Dirty) continue;
            await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                store.SaveTarget(state);
                state.Dirty = false;
            }
            finally
            {
                state.Gate.Release();
            }
        }
    }
}
