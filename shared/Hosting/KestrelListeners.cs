using System.IO.Pipelines;
using System.Net;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Security.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace EdgeStream.Hosting;

/// <summary>Binds Kestrel listeners to the agent's <c>HOST:PORT</c> settings.</summary>
public static class KestrelListeners
{
    /// <summary>
    /// How long a client has to finish the TLS handshake before the connection is closed. Set here,
    /// not left to Kestrel's default, because it is the only guard against sockets that connect and
    /// then send nothing (or half a ClientHello): each holds a connection slot until it runs out. Ten
    /// seconds is many round trips even on a slow cellular link, and short enough that such sockets
    /// cannot pile up.
    /// </summary>
    public static readonly TimeSpan TlsHandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Listens on <paramref name="address"/>: every interface (<c>0.0.0.0</c>, <c>::</c>, <c>*</c>), <c>localhost</c> or one IP.</summary>
    public static void ListenOn(this KestrelServerOptions kestrel, HostPort address, Action<ListenOptions> configure)
    {
        if (address.IsAnyAddress) kestrel.ListenAnyIP(address.Port, configure);
        else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)) kestrel.ListenLocalhost(address.Port, configure);
        else kestrel.Listen(IPAddress.Parse(address.Host), address.Port, configure);
    }

    /// <summary>TLS with the node's certificate on this listener, when it has one; clients are not asked for theirs.</summary>
    public static ListenOptions UseServerTls(this ListenOptions listen, TlsMaterial? tls) => listen.UseServerTls(tls, TlsClientAuth.None);

    /// <summary>
    /// TLS with the node's certificate, when it has one, asking clients for theirs as
    /// <paramref name="clientAuth"/> says (the Kafka and MQTT listeners). A certificate that is presented
    /// must chain to the fleet CA or the handshake fails: a client is never taken for someone the CA did
    /// not vouch for. Without <c>--tls-ca</c> nothing could be verified, so nothing is asked for
    /// (<c>required</c> without it is refused at start).
    /// </summary>
    public static ListenOptions UseServerTls(this ListenOptions listen, TlsMaterial? tls, TlsClientAuth clientAuth)
    {
        if (tls is null) return listen;
        var mode = !tls.HasAuthority ? ClientCertificateMode.NoCertificate : clientAuth switch
        {
            TlsClientAuth.Required => ClientCertificateMode.RequireCertificate,
            TlsClientAuth.Requested => ClientCertificateMode.AllowCertificate,
            _ => ClientCertificateMode.NoCertificate,
        };
        var options = new HttpsConnectionAdapterOptions { ServerCertificate = tls.Certificate, ClientCertificateMode = mode, HandshakeTimeout = TlsHandshakeTimeout };
        // Called only for a certificate that was presented (Kestrel answers for a missing one by the mode).
        if (mode != ClientCertificateMode.NoCertificate) options.ClientCertificateValidation = (certificate, _, _) => tls.Verify(certificate, out _);
        listen.UseHttps(options);
        return listen;
    }

    /// <summary>The most clear text one TLS record carries (RFC 8446 5.1, RFC 5246 6.2.1): 16 KiB.</summary>
    public const int TlsRecordPlaintext = 16 * 1024;

    /// <summary>
    /// After <see cref="UseServerTls(ListenOptions, TlsMaterial?, TlsClientAuth)"/> on a byte-stream
    /// listener (Kafka): the connection handler reads and writes the TLS stream through pipes of whole
    /// records instead of the TLS middleware's 4 KiB blocks. Kestrel's pipes over the decrypted stream
    /// write each 4 KiB block as its own TLS record, each with its own encryption call and its own
    /// write and flush of the socket pipe, and read the decrypted stream 4 KiB at a time; a 1 MB fetch
    /// response became 256 records. Here a response goes out in 16 KiB records (the most one record
    /// holds) and reads take up to 64 KiB of clear text at once. The handshake, client certificates
    /// and their features stay the TLS middleware's; a listener without TLS is left alone.
    /// </summary>
    public static ListenOptions UseWholeTlsRecords(this ListenOptions listen, TlsMaterial? tls)
    {
        if (tls is null) return listen;
        listen.Use(next => async connection =>
        {
            if (connection.Features.Get<ISslStreamFeature>()?.SslStream is not { } ssl)
            {
                await next(connection).ConfigureAwait(false);
                return;
            }
            var tlsPipe = connection.Transport;
            var input = PipeReader.Create(ssl, new StreamPipeReaderOptions(bufferSize: 4 * TlsRecordPlaintext, minimumReadSize: TlsRecordPlaintext, leaveOpen: true));
            var output = PipeWriter.Create(ssl, new StreamPipeWriterOptions(minimumBufferSize: TlsRecordPlaintext, leaveOpen: true));
            connection.Transport = new RecordPipe(input, output);
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                // Whatever the handler left unflushed goes out; the TLS middleware then closes the stream.
                try { await output.CompleteAsync().ConfigureAwait(false); } catch (IOException) { } catch (ObjectDisposedException) { }
                await input.CompleteAsync().ConfigureAwait(false);
                connection.Transport = tlsPipe;
            }
        });
        return listen;
    }

    private sealed class RecordPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>
    /// TLS that requires a client certificate issued by the fleet CA (the uplink listener): a child
    /// without one, or with one from elsewhere, fails the handshake.
    /// </summary>
    public static ListenOptions UseMutualTls(this ListenOptions listen, TlsMaterial tls) => tls.HasAuthority
        ? listen.UseServerTls(tls, TlsClientAuth.Required)
        : throw new InvalidOperationException("mutual TLS needs the fleet CA (--tls-ca) to verify clients with");
}
