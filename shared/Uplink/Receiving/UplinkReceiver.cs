using EdgeStream.Metadata;
using EdgeStream.Storage;
using EdgeStream.Uplink.Grpc;
using EdgeStream.Uplink.Protocol;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Receiving;

/// <summary>
/// A refusal because <paramref name="NodeId"/> (the child itself, or an origin it relays) is revoked:
/// what the host audits. <paramref name="Operation"/> is connect, forward, relay or report.
/// </summary>
public readonly record struct RevokedRefusal(string NodeId, ChildIdentity Child, string Operation, string? Remote);

/// <summary>One frame's outcome: the reply (completes once the records are durable) and whether the stream ends after it.</summary>
public readonly record struct FrameResult(Task<UplinkReply> Reply, bool CloseStream);

/// <summary>
/// The parent side of the uplink, without the transport: decode a frame, check the child's origin
/// claim, find (or create) the target partition, de-duplicate and start the append.
/// <see cref="Accept"/> returns as soon as the append is issued, so a stream can start frame N+1
/// while frame N is being fsynced; replies complete in log order. Never throws for bad input:
/// everything becomes a reply code. A revoked node (<see cref="RevokedNodes"/>) is refused on the
/// very next frame, whether it sends itself or a gateway relays its records.
/// </summary>
public sealed class UplinkReceiver
{
    private readonly Func<TopicCatalog?> _catalog;
    private readonly OriginStreamRegistry _registry;
    private readonly OriginDeduplicator _dedup;
    private readonly ILogger _logger;
    private readonly RevokedNodes? _revoked;
    private readonly Action<RevokedRefusal>? _audit;

    public UplinkReceiver(Func<TopicCatalog?> catalog, MetadataStore metadata, UplinkReceiverOptions options, ILogger<UplinkReceiver> logger,
        RevokedNodes? revoked = null, Action<RevokedRefusal>? audit = null)
    {
        _revoked = revoked;
        _audit = audit;
        options.Validate();
        _catalog = catalog;
        _registry = new OriginStreamRegistry(metadata);
        _dedup = new OriginDeduplicator(options.MaxRangesPerStream);
        Options = options;
        _logger = logger;
    }

    public UplinkReceiverOptions Options { get; }
    public UplinkReceiverStats Stats { get; } = new();
    internal ILogger Logger => _logger;

    /// <summary>
    /// True when <paramref name="child"/> is revoked, after counting and auditing the refusal of its
    /// <paramref name="operation"/> (the caller refuses it).
    /// </summary>
    internal bool RefuseIfRevoked(ChildIdentity child, string operation, string? remote)
    {
        if (_revoked is null || !_revoked.Contains(child.NodeId)) return false;
        CountRevoked(child, child.NodeId, operation, remote);
        return true;
    }

    /// <summary>Handles one request of <paramref name="child"/>'s stream.</summary>
    public FrameResult Accept(ChildIdentity child, UplinkRequest request, string? remote = null)
    {
        var frameId = request.FrameId;
        // Revoked while its stream was open: this frame is the "next frame" the revocation takes effect on.
        if (RefuseIfRevoked(child, "forward", remote))
        {
            UplinkReceiverLog.RevokedStreamClosed(_logger, child, frameId);
            return new FrameResult(Task.FromResult(Reply(frameId, ReplyCode.Revoked, $"node {child.NodeId} is revoked", -1)), true);
        }
        UplinkFrame frame;
        byte[]? raw;
        // raw_length is a uint32 on the wire; past int.MaxValue it is over any limit.
        var rawLength = request.RawLength > int.MaxValue ? -1 : (int)request.RawLength;
        try
        {
            frame = UplinkFrameCodec.DecodePooled(request.Payload.Span, rawLength, Options.Limits, out raw);
        }
        catch (InvalidUplinkFrameException ex)
        {
            return Invalid(child, frameId, ex.Message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A decoder bug must not take the stream (or the node) down: the frame is unreadable either way.
            return Invalid(child, frameId, "malformed frame: " + ex.Message);
        }

        try
        {
            // Store compressed only when the data compresses: the sender's LZ4 of the same records
            // tells. Compressing what does not shrink costs the receiver's CPU and saves no disk.
            var compress = (long)request.Payload.Length * 4 <= (long)rawLength * 3;
            return Store(child, frameId, frame, compress, remote);
        }
        finally
        {
            // The frame's keys and values slice the pooled buffer; the batches were copied into the log.
            if (raw is not null) System.Buffers.ArrayPool<byte>.Shared.Return(raw);
        }
    }

    private FrameResult Store(ChildIdentity child, ulong frameId, UplinkFrame frame, bool compress, string? remote)
    {
        if (Validate(child, frame) is { } problem) return Invalid(child, frameId, problem);
        if (_revoked is not null && _revoked.Contains(frame.OriginNode))
        {
            // A gateway relaying a revoked node: only that origin's frames are refused, its stream goes on.
            CountRevoked(child, frame.OriginNode, "relay", remote);
            return new FrameResult(Task.FromResult(Reply(frameId, ReplyCode.OriginRevoked, $"origin node {frame.OriginNode} is revoked", -1)), false);
        }

        if (_catalog() is not { } catalog) return Refused(child, frameId, ReplyCode.Unavailable, "storage is not open", -1);

        DedupWrite write;
        try
        {
            var topic = TargetTopic(catalog, frame);
            if (topic is null)
                return Refused(child, frameId, ReplyCode.Unavailable, $"topic '{frame.TargetTopic}' does not exist and auto-creation is off", -1);
            var partition = topic[frame.OriginPartition % topic.PartitionCount];
            var streamId = _registry.GetOrAllocate(frame.OriginNode, frame.OriginTopic, frame.OriginPartition);
            write = _dedup.Write(partition, topic.Config.MaxMessageBytes, streamId, frame, compress);
        }
        catch (RecordTooLargeException ex)
        {
            // Not the child's fault and not hostile: one partition of it waits, the stream stays open.
            return Refused(child, frameId, ReplyCode.Rejected, ex.Message, -1);
        }
        catch (DiskFullException ex)
        {
            return Refused(child, frameId, ReplyCode.StorageFull, ex.Message, -1);
        }
        catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            return Refused(child, frameId, ReplyCode.Unavailable, ex.Message, -1);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            UplinkReceiverLog.Unexpected(_logger, child, frameId, ex);
            Stats.Refused();
            UplinkMetrics.ChildRefused(child.NodeId, "UNAVAILABLE");
            return new FrameResult(Task.FromResult(Reply(frameId, ReplyCode.Unavailable, "internal error: " + ex.Message, -1)), false);
        }

        return new FrameResult(CompleteAsync(child, frameId, frame.Records.Count, write), false);
    }

    private async Task<UplinkReply> CompleteAsync(ChildIdentity child, ulong frameId, int received, DedupWrite write)
    {
        try
        {
            await write.Durable.ConfigureAwait(false);
        }
        catch (DiskFullException ex)
        {
            return Refused(child, frameId, ReplyCode.StorageFull, ex.Message, write.OriginLastOffset).Reply.Result;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Refused(child, frameId, ReplyCode.Unavailable, ex.Message, write.OriginLastOffset).Reply.Result;
        }
        Stats.Acked(write.Written, received);
        UplinkMetrics.ChildAcked(child.NodeId, write.Written, received);
        if (write.IsDuplicate)
        {
            UplinkReceiverLog.Duplicate(_logger, child, frameId, received);
            return Reply(frameId, ReplyCode.Duplicate, "", write.OriginLastOffset);
        }
        return Reply(frameId, ReplyCode.Ok, "", write.OriginLastOffset);
    }

    // Checks that do not need storage: names the catalog and meta.db accept, offsets the batch
    // header can encode, and the child's right to speak for the origin.
    private static string? Validate(ChildIdentity child, UplinkFrame frame)
    {
        if (!ChildIdentity.IsValidNodeId(frame.OriginNode)) return $"origin node '{Truncate(frame.OriginNode)}' is not a node id";
        if (!LogManager.IsValidTopicName(frame.OriginTopic)) return $"origin topic '{Truncate(frame.OriginTopic)}' is not a valid topic name";
        if (!LogManager.IsValidTopicName(frame.TargetTopic)) return $"target topic '{Truncate(frame.TargetTopic)}' is not a valid topic name";
        if (frame.OriginPartitionCount > 10_000) return $"origin partition count {frame.OriginPartitionCount} is over 10000";
        if (frame.LastOriginOffset > UplinkBatchWriter.MaxOriginOffset)
            return $"origin offset {frame.LastOriginOffset} is at or above 2^46";
        if (child.Role == ChildRole.Edge && !string.Equals(frame.OriginNode, child.NodeId, StringComparison.Ordinal))
            return $"edge '{child.NodeId}' sent records of origin '{frame.OriginNode}'; an edge may only send its own";
        return null;
    }

    private TopicLog? TargetTopic(TopicCatalog catalog, UplinkFrame frame)
    {
        if (catalog.TryGet(frame.TargetTopic, out var topic)) return topic;
        if (!catalog.Defaults.AutoCreate) return null;
        // At least as many partitions as the origin, so origin partition p keeps its own partition.
        var partitions = Math.Max(catalog.Defaults.Partitions, frame.OriginPartitionCount);
        try
        {
            topic = catalog.Create(frame.TargetTopic, partitions, new Dictionary<string, string>());
            UplinkReceiverLog.TopicCreated(_logger, frame.TargetTopic, partitions, frame.OriginNode);
            return topic;
        }
        catch (TopicAlreadyExistsException)
        {
            // Created by someone else between the two calls.
            return catalog.TryGet(frame.TargetTopic, out topic) ? topic : null;
        }
    }

    private void CountRevoked(ChildIdentity child, string nodeId, string operation, string? remote)
    {
        Stats.Revoked();
        UplinkMetrics.RevokedRefused(child.NodeId, nodeId);
        _audit?.Invoke(new RevokedRefusal(nodeId, child, operation, remote));
    }

    private FrameResult Invalid(ChildIdentity child, ulong frameId, string reason)
    {
        Stats.Invalid();
        UplinkMetrics.ChildRefused(child.NodeId, "INVALID");
        UplinkReceiverLog.InvalidFrame(_logger, child, frameId, reason);
        return new FrameResult(Task.FromResult(Reply(frameId, ReplyCode.Invalid, reason, -1)), true);
    }

    private FrameResult Refused(ChildIdentity child, ulong frameId, ReplyCode code, string reason, long originLast)
    {
        Stats.Refused();
        UplinkMetrics.ChildRefused(child.NodeId, CodeLabel(code));
        UplinkReceiverLog.NotStored(_logger, child, frameId, code.ToString(), reason);
        return new FrameResult(Task.FromResult(Reply(frameId, code, reason, originLast)), false);
    }

    private static UplinkReply Reply(ulong frameId, ReplyCode code, string message, long originLast) =>
        new() { FrameId = frameId, Code = code, Message = message, OriginLastOffset = originLast };

    private static string CodeLabel(ReplyCode code) => code switch
    {
        ReplyCode.StorageFull => "STORAGE_FULL",
        ReplyCode.Unavailable => "UNAVAILABLE",
        ReplyCode.Rejected => "REJECTED",
        ReplyCode.Invalid => "INVALID",
        _ => "OTHER",
    };

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
