using EdgeStream.Records;
using EdgeStream.Storage;
using MQTTnet;

namespace EdgeStream.Mqtt.Persistence;

/// <summary>
/// Takes one MQTT message read back from the log: its offset, the message, whether the bridge wrote it.
/// Returns false to stop after it.
/// </summary>
public delegate bool MqttLogMessageVisitor(long offset, MqttApplicationMessage message, bool fromBridge);

/// <summary>
/// Reads the MQTT messages of one log partition in a range, in log order: what a persistent session's
/// restart replay (both engines) and the own core's catch-up of a subscriber that fell behind walk.
/// In the catch-all topic only what came from MQTT is MQTT; in a mapped topic Kafka records go out to
/// MQTT as well (the follower publishes them), so both are passed on.
/// </summary>
public static class MqttLogRangeReader
{
    private const int ReadBytes = 1 << 20;

    /// <summary>
    /// Visits the messages at offsets [<paramref name="from"/>, <paramref name="end"/>) until the visitor
    /// says stop. Returns the offset to continue from: past the last record visited when stopped, else
    /// past the last batch read.
    /// </summary>
    public static long Read(PartitionLog log, long from, long end, bool mapped, MqttLogMessageVisitor visit)
    {
        var next = from;
        var nowUnix = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (next < end)
        {
            using var read = log.Read(next, ReadBytes);
            var memory = read.Memory;
            var progressed = false;
            while (memory.Length >= RecordBatchHeader.Size && RecordBatchHeader.TryRead(memory.Span, out var header) && header.TotalSize <= memory.Length)
            {
                var batch = memory[..header.TotalSize];
                memory = memory[header.TotalSize..];
                if (!header.IsControl)
                {
                    foreach (var record in RecordBatchReader.ReadRecords(batch))
                    {
                        if (record.Offset < next || record.Offset >= end) continue;
                        var message = MqttRecordCodec.ToMessage(record, nowUnix, out var fromBridge);
                        if (message is null || !(fromBridge || mapped)) continue;
                        if (!visit(record.Offset, message, fromBridge)) return record.Offset + 1;
                    }
                }
                next = Math.Max(next, header.BaseOffset + header.LastOffsetDelta + 1);
                progressed = true;
            }
            if (!progressed) break;
        }
        return next;
    }
}
