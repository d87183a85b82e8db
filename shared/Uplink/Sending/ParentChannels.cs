using System.Net.Http;
using Grpc.Net.Client;

namespace EdgeStream.Uplink.Sending;

/// <summary>
/// One gRPC channel per parent, made on first use and kept for the life of the sender (h2c on a
/// <see cref="SocketsHttpHandler"/> with HTTP/2 keep-alive pings). Used by one connection at a time.
/// </summary>
internal sealed class ParentChannels(UplinkSenderOptions options) : IDisposable
{
    private readonly GrpcChannel?[] _channels = new GrpcChannel?[options.Parents.Count];
    private readonly Dictionary<UplinkParent, GrpcChannel> _followed = [];

    /// <summary>The channel to parent <paramref name="index"/> of <see cref="UplinkSenderOptions.Parents"/>.</summary>
    public GrpcChannel For(int index)
    {
        if (_channels[index] is { } existing) return existing;
        return _channels[index] = Create(options.Parents[index]);
    }

    /// <summary>The channel to a parent the mesh named (kept: the mesh moves between a handful of parents).</summary>
    public GrpcChannel For(UplinkParent parent)
    {
        if (_followed.TryGetValue(parent, out var existing)) return existing;
        return _followed[parent] = Create(parent);
    }

    private GrpcChannel Create(UplinkParent parent)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            // HTTP/2 pings find a dead path (a pulled cable, a NAT that forgot us) without waiting for TCP.
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        var tls = options.ClientCertificate is not null;
        if (tls)
        {
            handler.SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                ClientCertificates = [options.ClientCertificate!],
                // Parents are reached by whatever address --parent or the mesh gives (often an IP), so
                // the name is not what is checked: the fleet CA having issued the certificate is.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is System.Security.Cryptography.X509Certificates.X509Certificate2 c && options.VerifyParent!(c),
            };
        }
        return GrpcChannel.ForAddress(parent.AddressFor(tls), new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = 2 * options.MaxFrameBytes + 1024 * 1024,
            MaxReceiveMessageSize = 1024 * 1024,
        });
    }

    public void Dispose()
    {
        foreach (var channel in _channels) channel?.Dispose();
        foreach (var channel in _followed.Values) channel.Dispose();
    }
}
