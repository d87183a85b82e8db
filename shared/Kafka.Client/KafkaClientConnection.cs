using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EdgeStream.Common.Security;
using EdgeStream.Kafka.Protocol;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Client;

/// <summary>
/// One TCP connection to one broker. On connect it asks ApiVersions and from then on sends each API at
/// the highest version both this client and the broker support. Requests may be pipelined
/// (<see cref="WriteAsync{TResponse}"/>): they are written one at a time and a broker answers a
/// connection's requests in the order it received them, so responses are read in write order and each
/// correlation id is checked against the request it answers. A timeout or I/O failure breaks the
/// connection for good: after a missed response the stream position is unknown, so it cannot be reused.
/// With <see cref="KafkaClientOptions.Tls"/> the socket is wrapped in TLS before anything is sent; with
/// <see cref="KafkaClientOptions.Sasl"/> the client authenticates after ApiVersions (which Kafka answers
/// before authentication) and before any other request.
/// </summary>
public sealed class KafkaClientConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly KafkaClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ArrayBufferWriter<byte> _output = new();
    private Dictionary<short, (short Min, short Max)> _brokerVersions = [];
    private int _nextCorrelationId;
    private volatile bool _broken;
    // Completes when the response of the last request written has been read: the next one reads after it.
    private Task _readTurn = Task.CompletedTask;

    private KafkaClientConnection(BrokerAddress address, Socket socket, Stream stream, KafkaClientOptions options)
    {
        Address = address;
        _socket = socket;
        _stream = stream;
        _input = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        _options = options;
    }

    public BrokerAddress Address { get; }

    /// <summary>False after a timeout or I/O failure; open a new connection then.</summary>
    public bool IsUsable => !_broken;

    /// <summary>Connects (trying every address the host resolves to) and negotiates API versions.</summary>
    public static async Task<KafkaClientConnection> ConnectAsync(BrokerAddress address, KafkaClientOptions options, CancellationToken cancellationToken = default)
    {
        options.Validate();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = await OpenSocketAsync(address, options, timeout.Token, cancellationToken).ConfigureAwait(false);
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (options.Tls is { } tls)
        {
            try
            {
                stream = await StartTlsAsync(address, stream, tls, timeout.Token, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        var connection = new KafkaClientConnection(address, socket, stream, options);
        var step = "ApiVersions";
        try
        {
            await connection.NegotiateAsync(timeout.Token).ConfigureAwait(false);
            if (options.Sasl is { } sasl)
            {
                step = "SASL " + sasl.Mechanism;
                await connection.AuthenticateAsync(sasl, timeout.Token).ConfigureAwait(false);
            }
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new KafkaClientException(step == "ApiVersions"
                ? $"cannot connect to {address}: no ApiVersions answer within {Seconds(options.ConnectTimeout)} (is it a Kafka listener{(options.Tls is null ? "" : " with TLS")}?)"
                : $"cannot connect to {address}: {step} did not complete within {Seconds(options.ConnectTimeout)}");
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<Socket> OpenSocketAsync(BrokerAddress address, KafkaClientOptions options, CancellationToken timeout, CancellationToken caller)
    {
        IPAddress[] candidates;
        if (IPAddress.TryParse(address.Host, out var literal)) candidates = [literal];
        else
        {
            try { candidates = await Dns.GetHostAddressesAsync(address.Host, timeout).ConfigureAwait(false); }
            catch (SocketException ex) { throw new KafkaClientException($"cannot connect to {address}: {Describe(ex)}", ex); }
            catch (OperationCanceledException) when (!caller.IsCancellationRequested)
            {
                throw new KafkaClientException($"cannot connect to {address}: resolving the host timed out after {Seconds(options.ConnectTimeout)}");
            }
            if (candidates.Length == 0) throw new KafkaClientException($"cannot connect to {address}: host not found");
        }

        // "localhost" may resolve to ::1 and 127.0.0.1 while the broker listens on one of them only.
        SocketException? last = null;
        foreach (var ip in candidates)
        {
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(ip, address.Port), timeout).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch (OperationCanceledException) when (!caller.IsCancellationRequested)
            {
                socket.Dispose();
                throw new KafkaClientException($"cannot connect to {address}: timed out after {Seconds(options.ConnectTimeout)}");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new KafkaClientException($"cannot connect to {address}: {Describe(last!)}", last!);
    }

    /// <summary>
    /// The TLS handshake: the broker's certificate must name <paramref name="address"/>'s host and chain
    /// to the configured CA only (custom root trust, as between the fleet's own tiers). A refusal is a
    /// <see cref="KafkaClientException"/> naming the host and what is wrong with the certificate.
    /// </summary>
    private static async Task<SslStream> StartTlsAsync(BrokerAddress address, Stream inner, KafkaClientTls tls, CancellationToken timeout, CancellationToken caller)
    {
        string? refusal = null;
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            // The name checked against the certificate's SAN (DNS name or IP address), and SNI for a name.
            TargetHost = address.Host,
            EnabledSslProtocols = SslProtocols.None, // the system's choice: TLS 1.2 and 1.3
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                refusal = Refusal(certificate, chain, errors, tls);
                return refusal is null;
            },
        };
        if (tls.Authorities is { } authorities)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(authorities);
            options.CertificateChainPolicy = policy;
        }
        if (tls.ClientCertificate is { } certificate)
            options.ClientCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, timeout).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new KafkaClientException(refusal is not null
                ? $"TLS to {address} refused: the certificate of {address.Host} {refusal}"
                : $"TLS handshake with {address} failed: {ex.InnerException?.Message ?? ex.Message} (is it a TLS listener?)", ex);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new KafkaClientException($"TLS handshake with {address} did not complete within its connect timeout (is it a TLS listener?)");
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Why the broker's certificate is not accepted, or null when it is.</summary>
    private static string? Refusal(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, KafkaClientTls tls)
    {
        if (errors == SslPolicyErrors.None) return null;
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) return "was not presented";
        var reasons = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            reasons.Add($"does not name that host (subject {certificate.Subject})");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var status = chain is null ? "" : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
            reasons.Add((tls.Authorities is null ? "is not trusted by the system's CAs" : "is not issued by the configured CA")
                + (status.Length > 0 ? $" ({status})" : ""));
        }
        return string.Join(" and ", reasons);
    }

    // KIP-43, KIP-152: SaslHandshake v1 names the mechanism, the tokens then travel in SaslAuthenticate
    // requests (framed like any other). One exchange per connection: no re-authentication (KIP-368).
    private async Task AuthenticateAsync(KafkaClientSasl sasl, CancellationToken cancellationToken)
    {
        if (!Supports(ApiKey.SaslHandshake) || !Supports(ApiKey.SaslAuthenticate))
            throw new KafkaClientException($"{Address} does not offer SASL (SaslHandshake v1 and SaslAuthenticate); is it a SASL listener?");
        var handshake = await SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = sasl.Mechanism }, 1, cancellationToken).ConfigureAwait(false);
        if (handshake.ErrorCode == KafkaErrors.UnsupportedSaslMechanism)
            throw new KafkaClientException($"{Address} does not accept SASL {sasl.Mechanism}; it offers {(handshake.Mechanisms.Count == 0 ? "none" : string.Join(", ", handshake.Mechanisms))}",
                handshake.ErrorCode);
        if (handshake.ErrorCode != 0) throw KafkaClientException.FromBroker(handshake.ErrorCode, $"SaslHandshake on {Address}");

        if (ScramMechanism.FromName(sasl.Mechanism) is { } mechanism)
        {
            var scram = new ScramClient(mechanism, sasl.Username, sasl.Password);
            var serverFirst = await SaslStepAsync(sasl, scram.ClientFirst(), cancellationToken).ConfigureAwait(false);
            var serverFinal = await SaslStepAsync(sasl, scram.ClientFinal(serverFirst), cancellationToken).ConfigureAwait(false);
            scram.VerifyServerFinal(serverFinal);
        }
        else
        {
            // RFC 4616: authzid NUL authcid NUL passwd, with no authzid (the user acts as itself).
            var token = Encoding.UTF8.GetBytes("\0" + sasl.Username + "\0" + sasl.Password);
            await SaslStepAsync(sasl, token, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<byte[]> SaslStepAsync(KafkaClientSasl sasl, byte[] token, CancellationToken cancellationToken)
    {
        var response = await SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = token }, cancellationToken).ConfigureAwait(false);
        if (response.ErrorCode != 0)
            throw new KafkaClientException(
                $"{Address} refused SASL {sasl.Mechanism} authentication of user '{sasl.Username}': {KafkaErrors.Name(response.ErrorCode)}"
                + (string.IsNullOrWhiteSpace(response.ErrorMessage) ? "" : $" ({response.ErrorMessage})"), response.ErrorCode);
        return response.AuthBytes;
    }

    private static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
        SocketError.TimedOut => "timed out",
        SocketError.ConnectionReset => "connection reset by the broker",
        _ => ex.Message,
    };

    private static string Seconds(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#}s" : $"{t.TotalMilliseconds:0}ms";

    // KIP-511: a broker that does not know our ApiVersions version answers UNSUPPORTED_VERSION in v0
    // with its own range; we then retry at the highest version it supports.
    private async Task NegotiateAsync(CancellationToken cancellationToken)
    {
        var version = Math.Min((short)3, KafkaApis.HighestSupportedVersion(ApiKey.ApiVersions));
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var request = new ApiVersionsRequest { ClientSoftwareName = "edgestream-cli", ClientSoftwareVersion = "1" };
            var frame = await (await WriteRequestAsync(ApiKey.ApiVersions, version, request, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            var response = ParseApiVersions(frame, version);
            if (response.ErrorCode == KafkaErrors.UnsupportedVersion && attempt == 0)
            {
                short brokerMax = 0;
                foreach (var api in response.ApiKeys)
                    if (api.ApiKey == (short)ApiKey.ApiVersions) brokerMax = api.MaxVersion;
                version = Math.Min(version, brokerMax);
                continue;
            }
            if (response.ErrorCode != 0) throw KafkaClientException.FromBroker(response.ErrorCode, $"ApiVersions on {Address}");
            var map = new Dictionary<short, (short, short)>(response.ApiKeys.Count);
            foreach (var api in response.ApiKeys) map[api.ApiKey] = (api.MinVersion, api.MaxVersion);
            _brokerVersions = map;
            return;
        }
        throw new KafkaClientException($"{Address} did not agree on an ApiVersions version");
    }

    private static ApiVersionsResponse ParseApiVersions(byte[] body, short version)
    {
        // An error answer is in v0 whatever we asked (KIP-511); try ours first, v0 second.
        try
        {
            var response = KafkaMessage.Parse<ApiVersionsResponse>(body, version);
            if (response.ErrorCode == 0 || version == 0) return response;
        }
        catch (KafkaProtocolException) when (version > 0) { }
        return KafkaMessage.Parse<ApiVersionsResponse>(body, 0);
    }

    /// <summary>Whether the broker answers <paramref name="key"/> at a version this client speaks.</summary>
    public bool Supports(ApiKey key) => TryNegotiate(key, out _);

    /// <summary>The version <paramref name="key"/> is sent at: the highest both sides support.</summary>
    public short VersionFor(ApiKey key) => TryNegotiate(key, out var version)
        ? version
        : throw new KafkaClientException(_brokerVersions.ContainsKey((short)key)
            ? $"{Address} supports {key} only at versions this client does not speak"
            : $"{Address} does not support {key}");

    private bool TryNegotiate(ApiKey key, out short version)
    {
        version = -1;
        if (!ClientApis.TryGetRange(key, out var clientMin, out var clientMax)) return false;
        if (!_brokerVersions.TryGetValue((short)key, out var broker)) return false;
        var hi = Math.Min(clientMax, broker.Max);
        var lo = Math.Max(clientMin, broker.Min);
        if (hi < lo) return false;
        version = hi;
        return true;
    }

    /// <summary>Sends <paramref name="request"/> at the negotiated version and returns the parsed response.</summary>
    public async Task<TResponse> SendAsync<TResponse>(IKafkaApiMessage request, CancellationToken cancellationToken = default, TimeSpan extraWait = default)
        where TResponse : IKafkaMessage, new()
    {
        var key = request.MessageApiKey;
        var version = VersionFor(key);
        return await SendAsync<TResponse>(request, version, cancellationToken, extraWait).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="request"/> at <paramref name="version"/> (see <see cref="VersionFor"/>).</summary>
    public async Task<TResponse> SendAsync<TResponse>(IKafkaApiMessage request, short version, CancellationToken cancellationToken = default, TimeSpan extraWait = default)
        where TResponse : IKafkaMessage, new()
    {
        var response = await WriteAsync<TResponse>(request, version, cancellationToken, extraWait).ConfigureAwait(false);
        return await response.ConfigureAwait(false);
    }

    /// <summary>
    /// Pipelining: writes <paramref name="request"/> at <paramref name="version"/> and returns once it is on
    /// the wire, with a task for its response. Calls that follow may write their requests before this
    /// response arrives; responses are read in the order the requests were written. The request timeout
    /// runs from the write.
    /// </summary>
    public async Task<Task<TResponse>> WriteAsync<TResponse>(IKafkaApiMessage request, short version, CancellationToken cancellationToken = default, TimeSpan extraWait = default)
        where TResponse : IKafkaMessage, new()
    {
        var key = request.MessageApiKey;
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var limit = _options.RequestTimeout + extraWait;
        timeout.CancelAfter(limit);
        Task<byte[]> body;
        try
        {
            body = await WriteRequestAsync(key, version, request, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            timeout.Dispose();
            throw new KafkaClientException($"{key} request to {Address} timed out after {Seconds(limit)}");
        }
        catch
        {
            timeout.Dispose();
            throw;
        }
        return ParseAsync<TResponse>(body, key, version, limit, timeout, cancellationToken);
    }

    private async Task<TResponse> ParseAsync<TResponse>(Task<byte[]> pending, ApiKey key, short version, TimeSpan limit, CancellationTokenSource timeout, CancellationToken cancellationToken)
        where TResponse : IKafkaMessage, new()
    {
        byte[] body;
        try
        {
            body = await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KafkaClientException($"{key} request to {Address} timed out after {Seconds(limit)}");
        }
        finally
        {
            timeout.Dispose();
        }
        try
        {
            return KafkaMessage.Parse<TResponse>(body, version);
        }
        catch (KafkaProtocolException ex)
        {
            throw new KafkaClientException($"{Address} sent a {key} v{version} response that does not parse: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes one request under the write gate and returns a task for its response body (after the header),
    /// read once every earlier request's response has been read.
    /// </summary>
    private async Task<Task<byte[]>> WriteRequestAsync(ApiKey key, short version, IKafkaMessage request, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_broken) throw new KafkaClientException($"the connection to {Address} is closed after an earlier failure");
            var correlationId = ++_nextCorrelationId;
            var header = new RequestHeader { ApiKey = (short)key, ApiVersion = version, CorrelationId = correlationId, ClientId = _options.ClientId };
            _output.ResetWrittenCount();
            KafkaFraming.WriteRequest(_output, header, request);
            try
            {
                await _stream.WriteAsync(_output.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }
            // Failed or cancelled mid-write: part of a frame may be on the wire, so the stream is out of step.
            catch (Exception ex) when (IsTransportFailure(ex)) { throw Broken(ex, key); }
            catch when (MarkBroken()) { throw; }
            var previous = _readTurn;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _readTurn = done.Task;
            return ReadInTurnAsync(previous, done, key, version, correlationId, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static bool IsTransportFailure(Exception ex) => ex is IOException or SocketException or ObjectDisposedException;

    private KafkaClientException Broken(Exception ex, ApiKey key)
    {
        _broken = true;
        return new KafkaClientException($"the connection to {Address} failed during {key}: {ex.Message}", ex);
    }

    // An exception filter: marks the connection broken and lets the exception pass unchanged.
    private bool MarkBroken()
    {
        _broken = true;
        return false;
    }

    private async Task<byte[]> ReadInTurnAsync(Task previous, TaskCompletionSource done, ApiKey key, short version, int correlationId, CancellationToken cancellationToken)
    {
        try
        {
            await previous.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (_broken) throw new KafkaClientException($"the connection to {Address} failed before the {key} response arrived");
            return await ReadResponseAsync(key, version, correlationId, cancellationToken).ConfigureAwait(false);
        }
        // Failed, timed out or cancelled while waiting: the response may still arrive, so the stream is out of step.
        catch (Exception ex) when (IsTransportFailure(ex)) { throw Broken(ex, key); }
        catch when (MarkBroken()) { throw; }
        finally
        {
            done.TrySetResult();
        }
    }

    private async Task<byte[]> ReadResponseAsync(ApiKey key, short version, int correlationId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            try
            {
                if (KafkaFraming.TryReadFrame(ref buffer, _options.MaxResponseBytes, out var frame))
                {
                    // Pipelined responses may already be buffered behind this one: examine only what was consumed,
                    // so the next read returns them at once instead of waiting for more bytes.
                    consumed = examined = buffer.Start;
                    var reader = new KafkaReader(frame);
                    var header = ResponseHeader.Read(ref reader, KafkaHeaders.ResponseHeaderVersion((short)key, version));
                    if (header.CorrelationId != correlationId)
                    {
                        _broken = true;
                        throw new KafkaClientException($"{Address} answered correlation id {header.CorrelationId} to request {correlationId} ({key})");
                    }
                    return reader.UnreadSequence.ToArray();
                }
                if (result.IsCompleted)
                {
                    _broken = true;
                    throw new KafkaClientException($"{Address} closed the connection while we waited for the {key} v{version} response"
                        + " (the broker may not implement this request)");
                }
            }
            catch (KafkaProtocolException ex)
            {
                _broken = true;
                throw new KafkaClientException($"{Address} broke the Kafka framing: {ex.Message}", ex);
            }
            finally
            {
                // Consumed up to the frame we took (or nothing); without a whole frame everything was examined,
                // so the next read waits for more bytes.
                _input.AdvanceTo(consumed, examined);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _broken = true;
        await _input.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        _gate.Dispose();
    }
}

/// <summary>
/// The API versions this client speaks. Upper bounds stop where a newer version changes semantics
/// the client does not implement (Fetch v13+ and Produce v13+ address topics by id only).
/// </summary>
internal static class ClientApis
{
    public static bool TryGetRange(ApiKey key, out short min, out short max)
    {
        (min, max) = key switch
        {
            ApiKey.Produce => ((short)3, (short)11),
            ApiKey.Fetch => ((short)4, (short)12),
            ApiKey.ListOffsets => ((short)1, (short)8),
            ApiKey.Metadata => ((short)1, (short)12),
            ApiKey.ApiVersions => ((short)0, (short)3),
            ApiKey.CreateTopics => ((short)0, (short)7),
            ApiKey.DeleteTopics => ((short)0, (short)6),
            ApiKey.DescribeConfigs => ((short)0, (short)4),
            // Consumer groups, classic protocol. FindCoordinator v4+ and OffsetFetch v8+ batch by group;
            // both shapes are handled. OffsetCommit v9 and OffsetFetch v9 only add KIP-848 member epochs.
            ApiKey.FindCoordinator => ((short)0, (short)5),
            ApiKey.JoinGroup => ((short)0, (short)9),
            ApiKey.SyncGroup => ((short)0, (short)5),
            ApiKey.Heartbeat => ((short)0, (short)4),
            ApiKey.LeaveGroup => ((short)0, (short)5),
            ApiKey.OffsetCommit => ((short)0, (short)8),
            ApiKey.OffsetFetch => ((short)1, (short)8),
            ApiKey.ListGroups => ((short)0, (short)5),
            ApiKey.DescribeGroups => ((short)0, (short)5),
            ApiKey.DeleteGroups => ((short)0, (short)2),
            // Idempotent producers (KIP-98); v3+ lets a producer bump its epoch, which we do not need.
            ApiKey.InitProducerId => ((short)0, (short)4),
            // v0 handshakes are followed by bare tokens outside Kafka framing; only v1 is spoken (KIP-152).
            ApiKey.SaslHandshake => ((short)1, (short)1),
            ApiKey.SaslAuthenticate => ((short)0, (short)2),
            _ => ((short)-1, (short)-1),
        };
        if (min < 0) return false;
        // Never above what the generated codec can write.
        max = Math.Min(max, KafkaApis.HighestSupportedVersion(key));
        min = Math.Max(min, KafkaApis.LowestSupportedVersion(key));
        return min <= max;
    }
}
