namespace EdgeStream.Uplink.Sending;

/// <summary>
/// One <c>Forward</c> stream to a parent: the frames sent on it and not yet answered, oldest first
/// (the parent answers in arrival order). The in-flight queue is guarded by the forwarder's lock.
/// </summary>
internal sealed class ParentConnection(string parent, int index, double startedAt, Grpc.Uplink.UplinkClient client)
{
    /// <summary>The client of this connection's channel, for the fleet report's unary call.</summary>
    public Grpc.Uplink.UplinkClient Client { get; } = client;
    public string Parent { get; } = parent;
    public int Index { get; } = index;
    public double StartedAt { get; } = startedAt;
    public Queue<InFlightFrame> InFlight { get; } = new();
    public volatile bool Established;
}

/// <summary>A frame sent on a <see cref="ParentConnection"/> and not yet answered.</summary>
internal readonly record struct InFlightFrame(ulong FrameId, PartitionState Partition, int Generation, long LocalEnd, int Records, double SentAt);
