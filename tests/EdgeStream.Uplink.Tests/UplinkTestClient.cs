using System.Text;
using EdgeStream.Records;
using EdgeStream.TestSupport;
using EdgeStream.Uplink.Grpc;
using EdgeStream.Uplink.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace EdgeStream.Uplink.Tests;

/// <summary>A child's side of one Forward stream, driven by hand: send requests, read replies.</summary>
public sealed class UplinkTestClient : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<UplinkRequest, UplinkReply> _call;
    private ulong _nextFrameId = 1;

    private UplinkTestClient(GrpcChannel channel, AsyncDuplexStreamingCall<UplinkRequest, UplinkReply> call)
    {
        _channel = channel;
        _call = call;
    }

    /// <summary>Opens a stream; null headers are left out.</summary>
    public static UplinkTestClient Open(int port, string? nodeId, string? role = "edge")
    {
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions
        {
            MaxSendMessageSize = null,
            MaxReceiveMessageSize = null,
        });
        var headers = new global::Grpc.Core.Metadata();
        if (nodeId is not null) headers.Add("es-node-id", nodeId);
        if (role is not null) headers.Add("es-role", role);
        var call = new EdgeStream.Uplink.Grpc.Uplink.UplinkClient(channel).Forward(headers, deadline: DateTime.UtcNow.AddMinutes(2));
        return new UplinkTestClient(channel, call);
    }

    public Task SendRawAsync(UplinkRequest request) => _call.RequestStream.WriteAsync(request);

    /// <summary>Sends an encoded frame (frame ids count up from 1) and returns its id.</summary>
    public async Task<ulong> SendAsync(UplinkFrame frame)
    {
        var payload = UplinkFrameCodec.Encode(frame, out var rawLength);
        var id = _nextFrameId++;
        await _call.RequestStream.WriteAsync(new UplinkRequest { FrameId = id, Payload = ByteString.CopyFrom(payload), RawLength = (uint)rawLength });
        return id;
    }

    /// <summary>The next reply, or null when the server ended the call.</summary>
    public async Task<UplinkReply?> ReadAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await _call.ResponseStream.MoveNext(cts.Token) ? _call.ResponseStream.Current : null;
    }

    public async Task<UplinkReply> SendAndReadAsync(UplinkFrame frame)
    {
        var id = await SendAsync(frame);
        var reply = await ReadAsync();
        Assert.NotNull(reply);
        Assert.Equal(id, reply!.FrameId);
        return reply;
    }

    public Task CompleteAsync() => _call.RequestStream.CompleteAsync();

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        _channel.Dispose();
        await Task.CompletedTask;
    }
}

/// <summary>Frames and the records they carry, built the same way for every test.</summary>
public static class Frames
{
    /// <summary>Records for origin offsets [first, first+count): binary key, value, a binary header and a null-valued one.</summary>
    public static UplinkFrame Make(string originNode, string originTopic, long first, int count, string? target = null,
        int originPartition = 0, int originPartitionCount = 1, int valueBytes = 16)
    {
        var records = new UplinkRecord[count];
        for (var i = 0; i < count; i++) records[i] = Record(first + i, valueBytes);
        return new UplinkFrame
        {
            OriginNode = originNode,
            OriginTopic = originTopic,
            OriginPartition = originPartition,
            OriginPartitionCount = originPartitionCount,
            TargetTopic = target ?? originTopic,
            FirstOriginOffset = first,
            Records = records,
        };
    }

    public static UplinkRecord Record(long originOffset, int valueBytes = 16)
    {
        var value = new byte[valueBytes];
        for (var b = 0; b < value.Length; b++) value[b] = (byte)(originOffset * 31 + b);
        return new UplinkRecord(
            1_700_000_000_000 + originOffset,
            Key(originOffset),
            value,
            [new RecordHeader("trace", new byte[] { 0x00, 0xFF, (byte)originOffset, 0x80 }), new RecordHeader("empty", null)]);
    }

    public static byte[] Key(long originOffset) => Encoding.UTF8.GetBytes($"key-{originOffset}");
}

/// <summary>A record as a Confluent consumer read it back.</summary>
public sealed record ConsumedRecord(long Offset, long Timestamp, byte[]? Key, byte[]? Value, IReadOnlyList<(string Key, byte[]? Value)> Headers)
{
    public string? Header(string key)
    {
        foreach (var h in Headers)
            if (h.Key == key) return h.Value is null ? null : Encoding.UTF8.GetString(h.Value);
        return null;
    }
}

public static class Log
{
    /// <summary>Reads a partition from the start until <paramref name="expected"/> records or the deadline.</summary>
    public static List<ConsumedRecord> Read(string bootstrap, string topic, int expected, int partition = 0, TimeSpan? timeout = null) =>
        [.. LogReader.Read(bootstrap, topic, expected, timeout ?? TimeSpan.FromSeconds(30), [partition]).Select(r => new ConsumedRecord(
            r.Offset.Value, r.Message.Timestamp.UnixTimestampMs, r.Message.Key, r.Message.Value,
            r.Message.Headers is null ? [] : [.. r.Message.Headers.Select(h => (h.Key, (byte[]?)h.GetValueBytes()))]))];

    /// <summary>The partition's high watermark: how many records it holds (no retention in these tests).</summary>
    public static long HighWatermark(string bootstrap, string topic, int partition = 0) =>
        LogReader.Watermarks(bootstrap, topic, partition).High.Value;
}
