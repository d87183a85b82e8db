using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using EdgeStream.Kafka.Protocol;
using EdgeStream.Kafka.Protocol.Primitives;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Kafka.Server;

/// <summary>
/// One Kafka client connection on Kestrel. The read loop takes whole frames off the pipe (the size
/// prefix checked against the limit before anything is buffered), parses each request and starts
/// its handler in arrival order — so appends of one producer land in the order it sent them — and
/// queues it; the write loop sends the responses in that same order, as the protocol requires,
/// while later requests are already being worked on.
/// </summary>
public sealed class KafkaConnectionHandler : ConnectionHandler
{
    private readonly KafkaBroker _broker;
    private readonly ILogger _logger;

    public KafkaConnectionHandler(KafkaBroker broker, ILoggerFactory loggerFactory)
    {
        _broker = broker;
        _logger = loggerFactory.CreateLogger("EdgeStream.Kafka");
    }

    private readonly record struct Pending(int CorrelationId, short ApiKey, short Version, ValueTask<KafkaResponse?> Response, int Bytes, long Started);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        KafkaLog.ConnectionOpened(_logger, connection.ConnectionId, connection.RemoteEndPoint?.ToString());
        KafkaMetrics.ConnectionOpened();
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_broker.Options.MaxInFlightPerConnection)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        var budget = new InFlightBytes(_broker.Options.MaxInFlightBytesPerConnection);
        var session = new KafkaSession(connection.RemoteEndPoint, CertificatePrincipal(connection));
        var writer = WriteResponsesAsync(connection, queue.Reader, output, budget);
        // On shutdown Kestrel asks connections to close and otherwise waits for them until the host's
        // shutdown timeout (30 s): a client that simply stays connected (every Kafka client does) held
        // SIGTERM up for that long (found by the client tests' restart test). Stop reading instead: the
        // responses already queued are still written, then the connection closes, as a Kafka broker does.
        using var closeRequested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?
            .ConnectionClosedRequested.Register(static state => ((PipeReader)state!).CancelPendingRead(), input);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (KafkaFraming.TryReadFrame(ref buffer, _broker.Options.MaxRequestBytes, out var frame))
                    {
                        var bytes = (int)Math.Min(int.MaxValue, frame.Length);
                        var started = System.Diagnostics.Stopwatch.GetTimestamp();
                        await budget.AdmitAsync(bytes, connection.ConnectionClosed).ConfigureAwait(false);
                        Pending pending;
                        if (session.ExpectsBareToken)
                        {
                            pending = new Pending(0, (short)Protocol.Messages.ApiKey.SaslAuthenticate, 0, _broker.AuthenticateBareToken(frame, session, connection.RemoteEndPoint), bytes, started);
                        }
                        else
                        {
                            var (header, response) = _broker.Dispatch(frame, connection.LocalEndPoint, connection.ConnectionClosed, connection.RemoteEndPoint, session);
                            pending = new Pending(header.CorrelationId, header.ApiKey, header.ApiVersion, response, bytes, started);
                        }
                        await queue.Writer.WriteAsync(pending, connection.ConnectionClosed).ConfigureAwait(false);
                    }
                    if (result.IsCompleted || result.IsCanceled) break;
                }
                finally
                {
                    // Consumed up to the last whole frame; examined everything, so the pipe waits for more bytes.
                    input.AdvanceTo(buffer.Start, buffer.End);
                }
            }
        }
        catch (UnsupportedApiException ex)
        {
            KafkaLog.UnsupportedRequest(_logger, connection.ConnectionId, ex.ApiKey, ex.ApiVersion);
        }
        catch (SaslRequiredException ex)
        {
            KafkaLog.UnauthenticatedRequest(_logger, connection.ConnectionId, ex.ApiKey);
        }
        catch (KafkaProtocolException ex)
        {
            KafkaLog.ProtocolViolation(_logger, connection.ConnectionId, ex.Message);
        }
        catch (OperationCanceledException) { }
        catch (ConnectionResetException) { }
        catch (IOException) { }
        finally
        {
            queue.Writer.TryComplete();
            try { await writer.ConfigureAwait(false); } catch (Exception) { /* the connection is going away */ }
            KafkaLog.ConnectionClosed(_logger, connection.ConnectionId);
            KafkaMetrics.ConnectionClosed();
        }
    }

    /// <summary>
    /// A client certificate (verified against the fleet CA during the handshake) names the principal
    /// ACLs check (<see cref="EdgeStream.Security.Certificates.CertificatePrincipal"/>); SASL, if the
    /// listener requires it, replaces it, as on Kafka's SASL_SSL listeners.
    /// </summary>
    private static string? CertificatePrincipal(ConnectionContext connection) =>
        connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate is { } certificate
            ? EdgeStream.Security.Certificates.CertificatePrincipal.Of(certificate)
            : null;

    // KIP-43 legacy framing: int32 size, then the token.
    private static void WriteBareToken(PipeWriter output, byte[] token)
    {
        var span = output.GetSpan(4 + token.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(span, token.Length);
        token.CopyTo(span[4..]);
        output.Advance(4 + token.Length);
    }

    private async Task WriteResponsesAsync(ConnectionContext connection, ChannelReader<Pending> queue, PipeWriter output, InFlightBytes budget)
    {
        try
        {
            await foreach (var pending in queue.ReadAllAsync().ConfigureAwait(false))
            {
                KafkaResponse? response;
                try
                {
                    response = await pending.Response.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A handler bug: the client cannot be answered in this API's format. Close, as Kafka does.
                    KafkaLog.RequestFailed(_logger, ex, pending.ApiKey, pending.Version);
                    connection.Abort();
                    return;
                }
                finally
                {
                    // The handler is done with the request: its bytes no longer count.
                    budget.Release(pending.Bytes);
                }
                KafkaMetrics.Answered(pending.ApiKey, pending.Started, response?.Body);
                if (response is null) continue; // acks=0: the protocol sends nothing back
                using (response)
                {
                    if (!response.BareToken)
                        KafkaFraming.WriteResponse(output, pending.CorrelationId, (Protocol.Messages.ApiKey)pending.ApiKey, pending.Version, response.Body);
                    else if (response.Body is Protocol.Messages.SaslAuthenticateResponse { ErrorCode: 0 } token)
                        WriteBareToken(output, token.AuthBytes);
                }
                if (response.CloseAfter)
                {
                    // The answer goes out, then the connection ends: the read loop stops at its next read.
                    await output.FlushAsync().ConfigureAwait(false);
                    connection.Transport.Input.CancelPendingRead();
                    await output.CompleteAsync().ConfigureAwait(false);
                    return;
                }
                // Flush when nothing else is ready, so pipelined responses go out in one write.
                if (!queue.TryPeek(out _))
                {
                    var flush = await output.FlushAsync().ConfigureAwait(false);
                    if (flush.IsCompleted || flush.IsCanceled) return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException or InvalidOperationException)
        {
            connection.Abort();
        }
    }
}
