using EdgeStream.TestSupport;
using EdgeStream.Uplink.Grpc;
using EdgeStream.Uplink.Protocol;
using Google.Protobuf;
using Grpc.Core;
using K4os.Compression.LZ4;

namespace EdgeStream.Uplink.Tests;

/// <summary>Whatever a child sends, the parent answers or ends that one call, and keeps serving everyone else.</summary>
public sealed class UplinkHostileInputTests
{
    public static TheoryData<string> InvalidFrames =>
    [
        "garbage-payload", "wrong-raw-length", "lz4-bomb-over-limit", "lz4-bomb-lying-length", "lz4-of-garbage",
        "edge-claims-other-origin", "offset-beyond-2^46", "invalid-target-topic", "zero-raw-length",
    ];

    [Theory]
    [MemberData(nameof(InvalidFrames))]
    public async Task Forward_InvalidFrame_InvalidReplyThenStreamClosed_NodeKeepsServing(string kind)
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway", "--uplink-max-frame", "1MiB");

        await using (var child = UplinkTestClient.Open(node.UplinkPort, "edge-1"))
        {
            await child.SendRawAsync(Hostile(kind));
            var reply = await child.ReadAsync();
            Assert.NotNull(reply);
            Assert.True(reply!.Code == ReplyCode.Invalid, $"{kind}: {reply.Code} {reply.Message}");
            Assert.Equal(7UL, reply.FrameId);
            Assert.False(string.IsNullOrEmpty(reply.Message));
            // The parent ended the call after the INVALID reply.
            Assert.Null(await child.ReadAsync());
        }

        await AssertStillServesAsync(node);
        Assert.Contains("Invalid uplink frame 7 from edge edge-1", node.Process.Stdout + node.Process.Stderr);
    }

    [Fact]
    public async Task Forward_MessageOverGrpcLimit_RefusedByGrpc_NodeKeepsServing()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway", "--uplink-max-frame", "1MiB");

        await using (var child = UplinkTestClient.Open(node.UplinkPort, "edge-1"))
        {
            var payload = new byte[5 * 1024 * 1024];
            Random.Shared.NextBytes(payload);
            // The write itself may fail once the parent resets the stream; the call's status says why.
            try { await child.SendRawAsync(new UplinkRequest { FrameId = 1, Payload = ByteString.CopyFrom(payload), RawLength = 1000 }); }
            catch (RpcException) { }
            var error = await Assert.ThrowsAnyAsync<RpcException>(child.ReadAsync);
            Assert.True(error.StatusCode == StatusCode.ResourceExhausted, error.ToString());
        }

        await AssertStillServesAsync(node);
    }

    [Theory]
    [InlineData(null, "edge")]
    [InlineData("edge-1", null)]
    [InlineData("edge-1", "cloud")]
    [InlineData("not a node id!", "edge")]
    public async Task Forward_MissingOrBadIdentityHeaders_InvalidArgument_NodeKeepsServing(string? nodeId, string? role)
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway");

        await using (var child = UplinkTestClient.Open(node.UplinkPort, nodeId, role))
        {
            var error = await Assert.ThrowsAnyAsync<RpcException>(async () =>
            {
                await child.SendAsync(Frames.Make("edge-1", "t", 0, 1));
                await child.ReadAsync();
            });
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Contains("es-", error.Status.Detail);
        }

        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task Forward_NotProtobuf_CallFails_NodeKeepsServing()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway");

        // The raw bytes of a message that is not an UplinkRequest (field 2 claims 127 bytes, one follows).
        using (var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{node.UplinkPort}"))
        {
            var raw = Marshallers.Create<byte[]>(b => b, b => b);
            var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "edgestream.uplink.v1.Uplink", "Forward", raw, raw);
            var headers = new global::Grpc.Core.Metadata { { "es-node-id", "edge-1" }, { "es-role", "edge" } };
            using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions(headers, DateTime.UtcNow.AddMinutes(1)));
            var error = await Assert.ThrowsAnyAsync<RpcException>(async () =>
            {
                await call.RequestStream.WriteAsync([0x12, 0x7F, 0x01]);
                await call.ResponseStream.MoveNext(CancellationToken.None);
            });
            Assert.NotEqual(StatusCode.OK, error.StatusCode);
        }

        await AssertStillServesAsync(node);
    }

    [Fact]
    public async Task StatusPort_DoesNotServeUplink()
    {
        using var dir = new TempDirectory();
        // With the HTTP token, so the POST gets past the token check to routing, which must not know the uplink there.
        const string token = "uplink-test-token-0123456789";
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "gateway", "--http-token", token);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.PostAsync($"http://127.0.0.1:{node.HttpPort}/edgestream.uplink.v1.Uplink/Forward", new ByteArrayContent([]));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    private static UplinkRequest Hostile(string kind)
    {
        var good = Frames.Make("edge-1", "t", 0, 10);
        var payload = UplinkFrameCodec.Encode(good, out var rawLength);
        switch (kind)
        {
            case "garbage-payload":
                var garbage = new byte[300];
                new Random(42).NextBytes(garbage);
                return Request(garbage, 1000);
            case "wrong-raw-length":
                return Request(payload, rawLength + 5);
            case "lz4-bomb-over-limit":
            {
                // 64 MiB of zeros compress to ~256 KiB; its true length is over the 1 MiB limit.
                var zeros = new byte[64 * 1024 * 1024];
                var target = new byte[LZ4Codec.MaximumOutputSize(zeros.Length)];
                var n = LZ4Codec.Encode(zeros, target);
                return Request(target.AsSpan(0, n).ToArray(), zeros.Length);
            }
            case "lz4-bomb-lying-length":
            {
                // The same bomb claiming to be small: decompression stops at the claimed length.
                var zeros = new byte[8 * 1024 * 1024];
                var target = new byte[LZ4Codec.MaximumOutputSize(zeros.Length)];
                var n = LZ4Codec.Encode(zeros, target);
                return Request(target.AsSpan(0, n).ToArray(), 1000);
            }
            case "lz4-of-garbage":
            {
                var noise = new byte[500];
                new Random(7).NextBytes(noise);
                var target = new byte[LZ4Codec.MaximumOutputSize(noise.Length)];
                var n = LZ4Codec.Encode(noise, target);
                return Request(target.AsSpan(0, n).ToArray(), noise.Length);
            }
            case "edge-claims-other-origin":
                return Encode(Frames.Make("edge-2", "t", 0, 10));
            case "offset-beyond-2^46":
                return Encode(Frames.Make("edge-1", "t", (1L << 46) - 5, 10));
            case "invalid-target-topic":
                return Encode(Frames.Make("edge-1", "t", 0, 10, target: "../../etc"));
            case "zero-raw-length":
                return Request(payload, 0);
            default:
                throw new ArgumentException(kind);
        }
    }

    private static UplinkRequest Encode(UplinkFrame frame)
    {
        var payload = UplinkFrameCodec.Encode(frame, out var rawLength);
        return Request(payload, rawLength);
    }

    private static UplinkRequest Request(byte[] payload, long rawLength) =>
        new() { FrameId = 7, Payload = ByteString.CopyFrom(payload), RawLength = (uint)rawLength };

    /// <summary>The process is alive and a well-formed frame on a new stream is stored.</summary>
    private static async Task AssertStillServesAsync(AgentNode node)
    {
        Assert.False(node.Process.HasExited, node.Process.Stderr);
        await using var child = UplinkTestClient.Open(node.UplinkPort, "edge-1");
        var reply = await child.SendAndReadAsync(Frames.Make("edge-1", "after", 0, 3));
        Assert.True(reply.Code == ReplyCode.Ok, $"{reply.Code}: {reply.Message}\n{node.Process.Stderr}");
        Assert.Equal(3, Log.Read(node.Bootstrap, "after", 3).Count);
        Assert.False(node.Process.HasExited);
    }
}
