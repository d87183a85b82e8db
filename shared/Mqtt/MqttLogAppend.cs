using EdgeStream.Mqtt.Persistence;
using EdgeStream.Storage;

namespace EdgeStream.Mqtt;

/// <summary>
/// A message written to the log (<see cref="MqttLogBridge.Append"/>) whose durability is asked for
/// when it matters rather than awaited per message: the acknowledgements of one connection are sent
/// in order, and one fsync covers many of them, so their writer waits once per fsync and finds the
/// rest durable already (a volatile read each).
/// </summary>
public readonly struct MqttLogAppend
{
    private readonly PartitionLog _partition;
    private readonly long _endOffset;

    internal MqttLogAppend(PartitionLog partition, LogPosition position, long endOffset)
    {
        _partition = partition;
        Position = position;
        _endOffset = endOffset;
    }

    /// <summary>Where the message was written; the message is there for good only once <see cref="Durability"/> says so.</summary>
    public LogPosition Position { get; }

    public AppendDurability Durability => _partition.Durability(_endOffset);

    /// <summary>
    /// Completes once the message is durable under the fsync policy (synchronously when it is already);
    /// throws <see cref="MqttBridgeException"/> when the fsync that covered it failed.
    /// </summary>
    public ValueTask WaitDurableAsync()
    {
        var wait = _partition.WaitDurableAsync(_endOffset);
        return wait.IsCompletedSuccessfully ? ValueTask.CompletedTask : Translate(wait);
    }

    private static async ValueTask Translate(ValueTask wait)
    {
        try
        {
            await wait.ConfigureAwait(false);
        }
        catch (Exception ex) when (MqttLogBridge.Refusal(ex) is { } refusal)
        {
            throw refusal;
        }
    }
}
