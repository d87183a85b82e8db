using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using MQTTnet;

namespace EdgeStream.Mqtt.Persistence;

/// <summary>
/// The log position of an application message the bridge appended (or the follower read), kept
/// beside the message object without touching it (no extra user property leaks to subscribers).
/// </summary>
public static class MqttLogPositions
{
    private static readonly ConditionalWeakTable<MqttApplicationMessage, LogPositionSlot> Slots = new();

    /// <summary>The message is durable at <paramref name="position"/>.</summary>
    public static void Set(MqttApplicationMessage message, LogPosition position) => Slots.AddOrUpdate(message, new LogPositionSlot(position));

    /// <summary>The message's append is in flight; its slot is filled when <paramref name="append"/> succeeds.</summary>
    public static void Track(MqttApplicationMessage message, Task<LogPosition> append) => Slots.AddOrUpdate(message, new LogPositionSlot(append));

    /// <summary>The message is written; its slot has the position once <paramref name="written"/> is durable.</summary>
    public static void Track(MqttApplicationMessage message, MqttLogAppend written) => Slots.AddOrUpdate(message, new LogPositionSlot(written));

    public static bool TryGetSlot(MqttApplicationMessage message, [NotNullWhen(true)] out LogPositionSlot? slot) =>
        Slots.TryGetValue(message, out slot);

    public static bool TryGet(MqttApplicationMessage message, out LogPosition position)
    {
        if (Slots.TryGetValue(message, out var slot)) return slot.TryGet(out position);
        position = default;
        return false;
    }
}
