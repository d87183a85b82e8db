using System.Buffers;
using System.IO.Pipelines;

namespace EdgeStream.Mqtt.Limits;

/// <summary>Why the guard closes a connection.</summary>
public enum MqttViolation
{
    None,
    /// <summary>Not MQTT framing: a 5-byte remaining length, a reserved packet type, QoS 3, a zero packet id.</summary>
    Malformed,
    /// <summary>A first packet other than CONNECT, or a second CONNECT (MQTT 3.1.1 §3.1 [MQTT-3.1.0-1], [MQTT-3.1.0-2]).</summary>
    ProtocolError,
    /// <summary>A packet larger than the listener's maximum packet size.</summary>
    PacketTooLarge,
    /// <summary>More QoS 2 PUBLISHes awaiting PUBREL than the Receive Maximum.</summary>
    ReceiveMaximumExceeded,
}

/// <summary>
/// The inbound side of an MQTT connection as MQTTnet reads it, checked packet by packet before
/// MQTTnet buffers a packet: each fixed header is read as soon as its bytes arrive, so a packet
/// over the size limit is refused after its first five bytes, not after its payload. The bytes
/// MQTTnet sees are the transport's own (no copy), up to the end of the last checked header; the
/// one exception is a CONNECT whose empty client id is filled in, handed over as a rewritten copy.
/// A violation makes the read return "completed" with nothing, which ends MQTTnet's connection.
/// </summary>
public sealed class MqttGuardedReader : PipeReader
{
    private readonly PipeReader _inner;
    private readonly MqttConnectionState _connection;
    private readonly int _maxPacketBytes;
    private readonly int _maxInflight;
    private readonly Func<MqttConnectionState, MqttViolation, ValueTask> _onViolation;

    // Offsets from the start of the inner reader's unconsumed data.
    private long _scanEnd;      // where the next unchecked fixed header starts (may be past the buffer: payload still coming)
    private long _packetStart;  // where the packet ending at _scanEnd starts
    private ReadOnlySequence<byte> _innerBuffer;
    private bool _innerReadPending;
    private bool _completed;
    private bool _sawConnect;
    private byte[]? _connect;   // a rewritten CONNECT handed over instead of the original
    private long _connectLength; // the original CONNECT's length in the inner buffer
    private MqttViolation _violation;
    private HashSet<ushort>? _awaitingPubRel;

    public MqttGuardedReader(PipeReader inner, MqttConnectionState connection, int maxPacketBytes, int maxInflight,
        Func<MqttConnectionState, MqttViolation, ValueTask> onViolation)
    {
        _inner = inner;
        _connection = connection;
        _maxPacketBytes = maxPacketBytes;
        _maxInflight = maxInflight;
        _onViolation = onViolation;
    }

    /// <summary>The violation that closed the connection, or <see cref="MqttViolation.None"/>.</summary>
    public MqttViolation Violation => _violation;

    /// <summary>QoS 2 packet ids received and not yet released.</summary>
    public int AwaitingPubRel => _awaitingPubRel?.Count ?? 0;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_violation != MqttViolation.None) return Closed();
        var result = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        var handed = Check(result, out var violation);
        if (violation == MqttViolation.None) return handed;
        await _onViolation(_connection, violation).ConfigureAwait(false);
        return handed;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_violation != MqttViolation.None)
        {
            result = Closed();
            return true;
        }
        if (!_inner.TryRead(out var inner))
        {
            result = default;
            return false;
        }
        result = Check(inner, out var violation);
        // No await here: the violation handler runs on its own (it only sends MQTT 5's DISCONNECT).
        if (violation != MqttViolation.None) _ = _onViolation(_connection, violation).AsTask();
        return true;
    }

    private static ReadResult Closed() => new(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);

    private ReadResult Check(ReadResult result, out MqttViolation violation)
    {
        _innerBuffer = result.Buffer;
        _innerReadPending = true;
        violation = Scan(result.Buffer);
        if (violation != MqttViolation.None)
        {
            // Packets before the offending one are dropped with it: none was acknowledged, so a QoS 1/2
            // client sends them again on its next connection.
            _violation = violation;
            return Closed();
        }
        if (result.IsCanceled) return new ReadResult(result.Buffer.Slice(0, 0), isCanceled: true, isCompleted: false);
        if (_connect is not null)
            return new ReadResult(new ReadOnlySequence<byte>(_connect), isCanceled: false, isCompleted: false);

        var length = result.Buffer.Length;
        // Bytes of a header not yet checked stay back; at the end of the stream, so does a packet cut short.
        var visible = result.IsCompleted
            ? (_scanEnd <= length ? _scanEnd : _packetStart)
            : Math.Min(_scanEnd, length);
        return new ReadResult(result.Buffer.Slice(0, visible), isCanceled: false, isCompleted: result.IsCompleted);
    }

    /// <summary>Checks every fixed header that has arrived; returns the first violation.</summary>
    private MqttViolation Scan(in ReadOnlySequence<byte> buffer)
    {
        var length = buffer.Length;
        while (_scanEnd < length && _connect is null)
        {
            var rest = buffer.Slice(_scanEnd);
            var status = MqttFrameScanner.TryReadFixedHeader(rest, out var first, out var headerLength, out var remaining);
            if (status == MqttFrameStatus.NeedMore) return MqttViolation.None;
            if (status == MqttFrameStatus.Malformed) return MqttViolation.Malformed;
            var total = (long)headerLength + remaining;
            if (total > _maxPacketBytes) return MqttViolation.PacketTooLarge;

            var type = (byte)(first >> 4);
            switch (type)
            {
                case 0:
                    // MQTT 3.1.1 §2.2.1: packet type 0 is reserved.
                    return MqttViolation.Malformed;
                case MqttFrameScanner.Connect:
                {
                    if (_sawConnect) return MqttViolation.ProtocolError;
                    if (rest.Length < total) return MqttViolation.None; // a CONNECT is checked whole (it is at most the packet limit)
                    var packet = rest.Slice(0, total);
                    if (MqttFrameScanner.ReadConnect(packet, headerLength, remaining, MqttFrameScanner.NewClientId, out var level, out var rewritten) != MqttFrameStatus.Ok)
                        return MqttViolation.Malformed;
                    _sawConnect = true;
                    _connection.ProtocolLevel = level;
                    if (rewritten is not null)
                    {
                        if (_scanEnd != 0) return MqttViolation.ProtocolError; // cannot happen: the CONNECT is the first packet
                        _connect = rewritten;
                        _connectLength = total;
                    }
                    break;
                }
                default:
                {
                    // [MQTT-3.1.0-1]: the first packet from the client must be CONNECT.
                    if (!_sawConnect) return MqttViolation.ProtocolError;
                    if (type == MqttFrameScanner.Publish)
                    {
                        var qos = (first >> 1) & 0x03;
                        if (qos == 3) return MqttViolation.Malformed; // [MQTT-3.3.1-4]
                        if (qos == 2)
                        {
                            var s = MqttFrameScanner.TryReadPublishPacketId(rest, headerLength, remaining, out var id);
                            if (s == MqttFrameStatus.NeedMore) return MqttViolation.None;
                            if (s == MqttFrameStatus.Malformed) return MqttViolation.Malformed;
                            // A DUP resend of an id already waiting adds nothing.
                            (_awaitingPubRel ??= []).Add(id);
                            if (_awaitingPubRel.Count > _maxInflight) return MqttViolation.ReceiveMaximumExceeded;
                        }
                    }
                    else if (type == MqttFrameScanner.PubRel)
                    {
                        var s = MqttFrameScanner.TryReadPubRelPacketId(rest, headerLength, remaining, out var id);
                        if (s == MqttFrameStatus.NeedMore) return MqttViolation.None;
                        if (s == MqttFrameStatus.Malformed) return MqttViolation.Malformed;
                        _awaitingPubRel?.Remove(id);
                    }
                    break;
                }
            }
            _packetStart = _scanEnd;
            _scanEnd += total;
        }
        return MqttViolation.None;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        // After Complete (MQTTnet completes the input when it closes the connection) there is nothing to advance.
        if (!_innerReadPending || _completed) return;
        _innerReadPending = false;
        var buffer = _innerBuffer;
        _innerBuffer = default;

        if (_violation != MqttViolation.None)
        {
            _inner.AdvanceTo(buffer.Start, buffer.End);
            return;
        }

        if (_connect is not null)
        {
            // The rewritten CONNECT stands for the original's bytes: once it is consumed, so is the original.
            var handed = new ReadOnlySequence<byte>(_connect);
            if (handed.Slice(0, consumed).Length == _connect.Length)
            {
                _connect = null;
                Consumed(_connectLength);
                _inner.AdvanceTo(buffer.GetPosition(_connectLength));
            }
            else
            {
                _inner.AdvanceTo(buffer.Start, buffer.End);
            }
            return;
        }

        var consumedLength = buffer.Slice(0, consumed).Length;
        var examinedLength = buffer.Slice(0, examined).Length;
        Consumed(consumedLength);
        // MQTTnet examined all it was handed; if bytes were held back (a header still incomplete), they
        // were examined too, so the inner read waits for more data instead of returning the same bytes.
        var handedLength = Math.Min(_scanEnd + consumedLength, buffer.Length);
        _inner.AdvanceTo(consumed, examinedLength >= handedLength ? buffer.End : examined);
    }

    private void Consumed(long bytes)
    {
        _scanEnd -= bytes;
        _packetStart = Math.Max(0, _packetStart - bytes);
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        _completed = true;
        _inner.Complete(exception);
    }
}

/// <summary>The guarded reader with the transport's writer, completed gracefully.</summary>
internal sealed class MqttGuardedPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;
    public PipeWriter Output { get; } = new GracefulWriter(output);

    /// <summary>
    /// MQTTnet completes the output with the exception that ended its read loop (a takeover, a
    /// violation); a pipe completed with an exception hands the socket that exception instead of the
    /// bytes still buffered, so the last packet (CONNACK refusal, DISCONNECT with its reason code)
    /// never left. Completing without the exception sends them, then closes.
    /// </summary>
    private sealed class GracefulWriter(PipeWriter inner) : PipeWriter
    {
        public override void Advance(int bytes) => inner.Advance(bytes);
        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);
        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) => inner.WriteAsync(source, cancellationToken);
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;
        public override long UnflushedBytes => inner.UnflushedBytes;
        public override void Complete(Exception? exception = null) => inner.Complete();
        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync();
    }
}
