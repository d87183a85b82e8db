using EdgeStream.Uplink.Grpc;
using Grpc.Core;

namespace EdgeStream.Uplink.Sending;

// Receiving: the parent's replies, one per frame in the order sent. They move the cursors, steer the
// frame size, and rewind or hold back a partition the parent cannot take now.
public sealed partial class UplinkForwarder
{
    private async Task ReceiveLoopAsync(AsyncDuplexStreamingCall<UplinkRequest, UplinkReply> call, ParentConnection connection, CancellationToken ct)
    {
        var stream = call.ResponseStream;
        try
        {
            while (await stream.MoveNext(ct).ConfigureAwait(false))
            {
                var reply = stream.Current;
                InFlightFrame frame;
                var now = Now();
                lock (_lock)
                {
                    if (!connection.InFlight.TryDequeue(out frame))
                        throw new UplinkRejectedException($"{connection.Parent} answered frame {reply.FrameId}, which was not sent");
                }
                if (reply.FrameId != frame.FrameId)
                    throw new UplinkRejectedException($"{connection.Parent} answered frame {reply.FrameId}, expected {frame.FrameId} (replies must come in order)");
                // The parent closes the stream after this reply: reconnecting goes through the usual
                // capped backoff, so a revoked node knocks at most once per --uplink-max-backoff.
                if (reply.Code == ReplyCode.Revoked) throw Revoked(connection, reply.Message);
                MarkEstablished(connection);
                var p = frame.Partition;
                switch (reply.Code)
                {
                    case ReplyCode.Ok:
                    case ReplyCode.Duplicate:
                        lock (_lock)
                        {
                            // Replies come in order and a refused frame bumps the generation, so an ack of the
                            // current generation means every earlier frame of it was acked too.
                            if (frame.Generation == p.Generation && !p.Removed && frame.LocalEnd > p.Acked)
                            {
                                p.Acked = frame.LocalEnd;
                                p.Dirty = true;
                            }
                            _frameSize.OnAck(TimeSpan.FromSeconds(now - frame.SentAt), connection.InFlight.Count);
                        }
                        _status.Acked(frame.Records, reply.Code == ReplyCode.Duplicate);
                        _status.SetRevoked(false);
                        UplinkMetrics.Acked(connection.Parent, now - frame.SentAt);
                        break;
                    case ReplyCode.StorageFull:
                    case ReplyCode.Unavailable:
                        HoldBack(frame, now, _options.RetryFrameDelay);
                        UplinkSenderLog.RetryLater(_logger, connection.Parent, reply.Code.ToString(), p.Topic, p.Partition, reply.Message,
                            (long)_options.RetryFrameDelay.TotalMilliseconds);
                        break;
                    case ReplyCode.Rejected:
                        // The parent can never store this frame as it is: hold this partition back (its data
                        // stays here, nothing is skipped) while every other partition keeps flowing.
                        HoldBack(frame, now, _options.RejectedRetryDelay);
                        UplinkSenderLog.Rejected(_logger, connection.Parent, p.Topic, p.Partition, reply.Message, (long)_options.RejectedRetryDelay.TotalSeconds);
                        break;
                    case ReplyCode.OriginRevoked:
                        // A relayed origin is revoked up there: hold its partition back like a REJECTED frame,
                        // for the longest reconnect backoff; everything else keeps flowing.
                        HoldBack(frame, now, _options.MaxBackoff);
                        _status.RevokedRefusal();
                        UplinkSenderLog.OriginRevoked(_logger, connection.Parent, p.Topic, p.Partition, reply.Message, (long)_options.MaxBackoff.TotalSeconds);
                        break;
                    default:
                        UplinkSenderLog.Invalid(_logger, connection.Parent, frame.FrameId, p.Topic, p.Partition, reply.Message);
                        throw new UplinkRejectedException($"{connection.Parent} refused frame {frame.FrameId} of {p.Topic}-{p.Partition}: {reply.Message}");
                }
                Wake();
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.PermissionDenied
            && ex.Trailers.GetValue(Receiving.UplinkService.RefusalTrailer) == Receiving.UplinkService.RefusalRevoked)
        {
            // Refused at the stream's start: told apart from other refusals by the trailer.
            throw Revoked(connection, ex.Status.Detail);
        }
        throw new IOException($"{connection.Parent} closed the stream");
    }

    private UplinkRevokedException Revoked(ParentConnection connection, string message)
    {
        _status.RevokedRefusal();
        _status.SetRevoked(true);
        UplinkSenderLog.Revoked(_logger, connection.Parent, _options.NodeId, message, (long)_options.MaxBackoff.TotalSeconds);
        return new UplinkRevokedException($"{connection.Parent} refuses this node: {message}");
    }

    /// <summary>The parent cannot take the frame now: its partition sends again from the cursor after <paramref name="delay"/>.</summary>
    private void HoldBack(in InFlightFrame frame, double now, TimeSpan delay)
    {
        var p = frame.Partition;
        lock (_lock)
        {
            if (frame.Generation == p.Generation)
            {
                p.Rewind(_readAhead);
                p.RetryAt = now + delay.TotalSeconds;
            }
        }
        _status.Retry();
    }
}
