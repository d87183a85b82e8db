using System.Threading.Channels;
using EdgeStream.Uplink.Grpc;
using Grpc.Core;

namespace EdgeStream.Uplink.Receiving;

/// <summary>
/// The gRPC endpoint of the parent: one bidirectional <c>Forward</c> stream per child connection.
/// Requests are handled in arrival order by <see cref="UplinkReceiver.Accept"/>, which starts each
/// append without waiting for the previous one's fsync; a bounded queue of pending replies (written
/// back in the same order as each becomes durable) stops reading when the disk falls behind, which
/// HTTP/2 flow control turns into backpressure on the child. An INVALID frame is answered, then
/// the call ends; every other error is a reply and the stream stays open. A revoked child is refused
/// at the stream's start with PERMISSION_DENIED and the trailer <see cref="RefusalTrailer"/>: <c>revoked</c>,
/// so it can tell a revocation from any other refusal.
/// </summary>
public sealed class UplinkService : Grpc.Uplink.UplinkBase
{
    private readonly UplinkReceiver _receiver;
    private readonly Fleet.FleetRegistry _fleet;

    /// <summary>Trailer of a refused call naming why, when the child should know (value <see cref="RefusalRevoked"/>).</summary>
    public const string RefusalTrailer = "es-refusal";
    public const string RefusalRevoked = "revoked";

    public UplinkService(UplinkReceiver receiver, Fleet.FleetRegistry fleet)
    {
        _receiver = receiver;
        _fleet = fleet;
    }

    /// <summary>A child's fleet report: recorded for <c>/v1/fleet</c>; nothing to do with the data stream.</summary>
    public override Task<FleetReportReply> Report(FleetReport request, ServerCallContext context)
    {
        var headers = context.RequestHeaders;
        if (!ChildIdentity.TryParse(headers.GetValue(ChildIdentity.NodeIdHeader), headers.GetValue(ChildIdentity.RoleHeader), out var child, out var error))
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        if (_receiver.RefuseIfRevoked(child!, "report", context.Peer)) throw Revoked(child!);
        _fleet.Accept(child!.NodeId, request);
        return Task.FromResult(new FleetReportReply());
    }

    public override async Task Forward(IAsyncStreamReader<UplinkRequest> requestStream, IServerStreamWriter<UplinkReply> responseStream, ServerCallContext context)
    {
        var logger = _receiver.Logger;
        var headers = context.RequestHeaders;
        if (!ChildIdentity.TryParse(headers.GetValue(ChildIdentity.NodeIdHeader), headers.GetValue(ChildIdentity.RoleHeader), out var child, out var error))
        {
            UplinkReceiverLog.StreamRefused(logger, context.Peer, error);
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }
        if (_receiver.Options.CheckIdentity is { } check
            && check(context.GetHttpContext().Connection.ClientCertificate, child!.NodeId) is { } refusal)
        {
            UplinkReceiverLog.StreamRefused(logger, context.Peer, refusal);
            throw new RpcException(new Status(StatusCode.PermissionDenied, refusal));
        }
        if (_receiver.RefuseIfRevoked(child!, "connect", context.Peer))
        {
            UplinkReceiverLog.RevokedStreamRefused(logger, child!, context.Peer);
            throw Revoked(child!);
        }

        _receiver.Stats.Connected(child!.NodeId);
        UplinkReceiverLog.ChildConnected(logger, child, context.Peer);
        var pending = Channel.CreateBounded<Task<UplinkReply>>(new BoundedChannelOptions(_receiver.Options.MaxPendingReplies)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // Cancelled when the child goes away or the reply writer fails, so neither loop waits forever.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var writer = WriteRepliesAsync(pending.Reader, responseStream, cts);
        long frames = 0;
        try
        {
            try
            {
                while (await requestStream.MoveNext(cts.Token).ConfigureAwait(false))
                {
                    var result = _receiver.Accept(child, requestStream.Current, context.Peer);
                    frames++;
                    await pending.Writer.WriteAsync(result.Reply, cts.Token).ConfigureAwait(false);
                    if (result.CloseStream) break;
                }
            }
            finally
            {
                pending.Writer.TryComplete();
            }
            await writer.ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            // A message gRPC itself refused (too large, not protobuf): the call ends with its status.
            UplinkReceiverLog.StreamFailed(logger, child, ex.Status.ToString());
            throw;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            // Not an UplinkRequest at all: like an INVALID frame, but there is no frame id to answer.
            _receiver.Stats.Invalid();
            UplinkReceiverLog.StreamFailed(logger, child, "request is not an UplinkRequest: " + ex.Message);
            throw new RpcException(new Status(StatusCode.InvalidArgument, "request is not an UplinkRequest: " + ex.Message));
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException or ChannelClosedException)
        {
            // The child went away; what it sent is written or will be, and it re-sends anything unacknowledged.
            UplinkReceiverLog.StreamFailed(logger, child, ex.Message);
        }
        finally
        {
            cts.Cancel();
            try { await writer.ConfigureAwait(false); } catch (Exception) { /* already reported above */ }
            _receiver.Stats.Disconnected();
            UplinkReceiverLog.ChildDisconnected(logger, child, frames);
        }
    }

    private static RpcException Revoked(ChildIdentity child) =>
        new(new Status(StatusCode.PermissionDenied, $"node {child.NodeId} is revoked"), new global::Grpc.Core.Metadata { { RefusalTrailer, RefusalRevoked } });

    private static async Task WriteRepliesAsync(ChannelReader<Task<UplinkReply>> pending, IServerStreamWriter<UplinkReply> responses, CancellationTokenSource cts)
    {
        try
        {
            while (await pending.WaitToReadAsync(cts.Token).ConfigureAwait(false))
            {
                while (pending.TryRead(out var next))
                {
                    // Reply tasks never fault: every outcome is a reply code.
                    var reply = await next.WaitAsync(cts.Token).ConfigureAwait(false);
                    await responses.WriteAsync(reply, cts.Token).ConfigureAwait(false);
                    if (reply.Code is ReplyCode.Invalid or ReplyCode.Revoked) return;
                }
            }
        }
        catch
        {
            await cts.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }
}
