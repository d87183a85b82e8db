using EdgeStream.Metadata;
using EdgeStream.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Sending;

/// <summary>One forwarded local partition. Every field is guarded by the forwarder's lock.</summary>
internal sealed class PartitionState(TopicLog topic, PartitionLog log, string cursorKey, string targetTopic, string topicId)
{
    public TopicLog TopicLog { get; } = topic;
    public PartitionLog Log { get; } = log;
    public string Topic => Log.Topic;
    public int Partition => Log.Partition;
    public string CursorKey { get; } = cursorKey;
    public string TargetTopic { get; } = targetTopic;
    public string TopicId { get; } = topicId;
    public int PartitionCount { get; set; } = topic.PartitionCount;
    public int Priority => TopicConfigKeys.UplinkPriorityOf(TopicLog.Config);
    /// <summary>Next local offset the parent has not acknowledged: the cursor.</summary>
    public long Acked { get; set; }
    /// <summary>Next local offset to read.</summary>
    public long SendPosition { get; set; }
    /// <summary>Bumped on every rewind: acks of older frames no longer move the cursor.</summary>
    public int Generation { get; set; }
    /// <summary>Frames read ahead, not yet sent (<see cref="ReadAheadBudget"/>).</summary>
    public Queue<PendingFrame> Pending { get; } = new();
    public double RetryAt { get; set; }
    public bool Dirty { get; set; }
    /// <summary>Environment.TickCount64 when the backlog last went from empty to not; 0 while caught up.</summary>
    public long BehindSinceMs { get; set; }
    public bool Removed { get; set; }

    /// <summary>
    /// Where forwarding stops: on disk (<see cref="PartitionLog.DurableOffset"/>) and committed (the
    /// last stable offset: an open transaction holds back everything after its first record).
    /// </summary>
    public long ForwardableOffset => Math.Min(Log.DurableOffset, Log.LastStableOffset);

    public bool IsReady(double now) =>
        !Removed && RetryAt <= now
        // Also "ready" when out of range, so CheckRange gets to move the position back inside.
        && (Pending.Count > 0 || ForwardableOffset > SendPosition || SendPosition > Log.HighWatermark || SendPosition < Log.LogStartOffset);

    /// <summary>Sends again from the cursor: in-flight and read-ahead frames are forgotten.</summary>
    public void Rewind(ReadAheadBudget readAhead)
    {
        Generation++;
        SendPosition = Acked;
        readAhead.Release(this);
    }

    public int InFlightFrames(ParentConnection? connection)
    {
        if (connection is null) return 0;
        var n = 0;
        foreach (var f in connection.InFlight)
        {
            if (f.Partition == this && f.Generation == Generation) n++;
        }
        return n;
    }

    /// <summary>
    /// Keeps the read position inside the log: below the log start (retention or drop-oldest
    /// deleted unsent records) it jumps forward and counts the loss; past the end (the topic was
    /// re-created while the node was down) it starts over. False when nothing is left to read.
    /// </summary>
    public bool CheckRange(ParentConnection? connection, UplinkStatus status, ILogger logger)
    {
        var start = Log.LogStartOffset;
        if (SendPosition < start)
        {
            var skipped = start - SendPosition;
            status.Skipped(skipped);
            UplinkSenderLog.Skipped(logger, Topic, Partition, skipped, SendPosition, start);
            if (Acked == SendPosition && InFlightFrames(connection) == 0)
            {
                Acked = start;
                Dirty = true;
            }
            SendPosition = start;
        }
        var end = Log.HighWatermark;
        if (SendPosition > end)
        {
            UplinkSenderLog.CursorReset(logger, Topic, Partition, SendPosition, end, start);
            Generation++;
            Acked = SendPosition = start;
            Dirty = true;
        }
        return SendPosition < end;
    }
}
