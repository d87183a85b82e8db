using EdgeStream.Storage;

namespace EdgeStream.Mqtt.Persistence;

/// <summary>
/// Where an appended message landed, known once the append is durable (the PUBACK waits for the same
/// moment, so a position unknown yet belongs to a message nobody was promised).
/// </summary>
public sealed class LogPositionSlot
{
    private readonly LogPosition _position;
    private readonly Task<LogPosition>? _append;
    private readonly MqttLogAppend? _written;

    internal LogPositionSlot(LogPosition position) => _position = position;

    internal LogPositionSlot(Task<LogPosition> append) => _append = append;

    internal LogPositionSlot(MqttLogAppend written) => _written = written;

    /// <summary>The append still running, to wait on; null once it finished (or when the position was known from the start).</summary>
    public Task? Pending => _written is { } written
        ? written.Durability == AppendDurability.Pending ? written.WaitDurableAsync().AsTask() : null
        : _append is { IsCompleted: false } append ? append : null;

    /// <summary>The append finished without a position: the message is not in the log.</summary>
    public bool Failed => _written is { } written
        ? written.Durability == AppendDurability.Failed
        : _append is { IsCompleted: true, IsCompletedSuccessfully: false };

    public bool TryGet(out LogPosition position)
    {
        if (_written is { } written)
        {
            var durable = written.Durability == AppendDurability.Durable;
            position = durable ? written.Position : default;
            return durable;
        }
        if (_append is null)
        {
            position = _position;
            return true;
        }
        // Read off the append itself when asked (rarely: persistent sessions only), rather than a
        // continuation per message to fill the slot in.
        var done = _append.IsCompletedSuccessfully;
        position = done ? _append.Result : default;
        return done;
    }
}
