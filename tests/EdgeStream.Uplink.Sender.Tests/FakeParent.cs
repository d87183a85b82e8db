using System.Net;
using EdgeStream.TestSupport;
using EdgeStream.Uplink.Grpc;
using EdgeStream.Uplink.Protocol;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Sender.Tests;

/// <summary>A record as the fake parent stored it.</summary>
public sealed record StoredRecord(long Timestamp, byte[]? Key, byte[]? Value, IReadOnlyList<(string Key, byte[]? Value)> Headers);

/// <summary>
/// What a fake parent received, kept across its restarts. De-duplicates by origin offset as the
/// real receiver does, and remembers anything suspicious: the same origin offset with different
/// content, or a frame that starts past what the stream holds (a gap on arrival).
/// </summary>
public sealed class FakeParentState
{
    private readonly object _lock = new();
    private readonly Dictionary<(string Node, string Topic, int Partition), SortedDictionary<long, StoredRecord>> _streams = [];
    private readonly List<string> _problems = [];
    private readonly HashSet<(string NodeId, string Role)> _children = [];
    private readonly HashSet<string> _targets = [];
    private int _refuseNext;

    public int Frames { get; private set; }
    public int DuplicateRecords { get; private set; }
    public int GapsOnArrival { get; private set; }
    public int RefusedFrames { get; private set; }

    /// <summary>The next <paramref name="frames"/> frames are answered STORAGE_FULL.</summary>
    public void RefuseNext(int frames)
    {
        lock (_lock) _refuseNext = frames;
    }

    public int TotalRecords
    {
        get { lock (_lock) return _streams.Values.Sum(s => s.Count); }
    }

    public IReadOnlyList<string> Problems
    {
        get { lock (_lock) return [.. _problems]; }
    }

    public IReadOnlyCollection<(string NodeId, string Role)> Children
    {
        get { lock (_lock) return [.. _children]; }
    }

    /// <summary>The target topics frames named.</summary>
    public IReadOnlyCollection<string> TargetTopics
    {
        get { lock (_lock) return [.. _targets]; }
    }

    public SortedDictionary<long, StoredRecord> Stream(string node, string topic, int partition)
    {
        lock (_lock) return _streams.TryGetValue((node, topic, partition), out var s) ? new(s) : [];
    }

    public IReadOnlyList<(string Node, string Topic, int Partition)> StreamKeys
    {
        get { lock (_lock) return [.. _streams.Keys]; }
    }

    public UplinkReply Accept(ulong frameId, UplinkFrame frame, string nodeId, string role)
    {
        lock (_lock)
        {
            _children.Add((nodeId, role));
            if (_refuseNext > 0)
            {
                _refuseNext--;
                RefusedFrames++;
                return new UplinkReply { FrameId = frameId, Code = ReplyCode.StorageFull, Message = "fake disk full" };
            }
            Frames++;
            _targets.Add(frame.TargetTopic);
            var key = (frame.OriginNode, frame.OriginTopic, frame.OriginPartition);
            if (!_streams.TryGetValue(key, out var stream)) _streams[key] = stream = [];
            var end = stream.Count == 0 ? 0 : stream.Keys.Last() + 1;
            if (frame.FirstOriginOffset > end) GapsOnArrival++;
            var fresh = 0;
            for (var i = 0; i < frame.Records.Count; i++)
            {
                var r = frame.Records[i];
                var stored = new StoredRecord(r.Timestamp, r.Key?.ToArray(), r.Value?.ToArray(), r.Headers.Select(h => (h.Key, h.Value?.ToArray())).ToList());
                var offset = frame.FirstOriginOffset + i;
                if (stream.TryGetValue(offset, out var existing))
                {
                    DuplicateRecords++;
                    if (!Same(existing, stored)) _problems.Add($"{key} offset {offset} re-sent with different content");
                    continue;
                }
                stream[offset] = stored;
                fresh++;
            }
            return new UplinkReply
            {
                FrameId = frameId,
                Code = fresh == 0 ? ReplyCode.Duplicate : ReplyCode.Ok,
                OriginLastOffset = stream.Keys.Last(),
            };
        }
    }

    public void Problem(string text)
    {
        lock (_lock) _problems.Add(text);
    }

    private static bool Same(StoredRecord a, StoredRecord b) =>
        a.Timestamp == b.Timestamp && Eq(a.Key, b.Key) && Eq(a.Value, b.Value) && a.Headers.Count == b.Headers.Count
        && a.Headers.Zip(b.Headers).All(p => p.First.Key == p.Second.Key && Eq(p.First.Value, p.Second.Value));

    private static bool Eq(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}

/// <summary>The fake parent's gRPC service: decode, de-duplicate, answer in order.</summary>
public sealed class FakeUplinkService(FakeParentState state, IHostApplicationLifetime lifetime) : Grpc.Uplink.UplinkBase
{
    public override async Task Forward(IAsyncStreamReader<UplinkRequest> requestStream, IServerStreamWriter<UplinkReply> responseStream, ServerCallContext context)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var nodeId = context.RequestHeaders.GetValue("es-node-id") ?? "";
        var role = context.RequestHeaders.GetValue("es-role") ?? "";
        while (await requestStream.MoveNext(cts.Token))
        {
            var request = requestStream.Current;
            UplinkReply reply;
            try
            {
                var frame = UplinkFrameCodec.Decode(request.Payload.Span, (int)request.RawLength);
                reply = state.Accept(request.FrameId, frame, nodeId, role);
            }
            catch (InvalidUplinkFrameException ex)
            {
                state.Problem("invalid frame: " + ex.Message);
                reply = new UplinkReply { FrameId = request.FrameId, Code = ReplyCode.Invalid, Message = ex.Message };
            }
            await responseStream.WriteAsync(reply, cts.Token);
        }
    }
}

/// <summary>A parent in the test process: Kestrel, HTTP/2 cleartext on a loopback port, restartable on the same port.</summary>
public sealed class FakeParent : IAsyncDisposable
{
    private WebApplication? _app;

    private FakeParent(FakeParentState state, int port)
    {
        State = state;
        Port = port;
    }

    public FakeParentState State { get; }
    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";

    public static async Task<FakeParent> StartAsync(FakeParentState? state = null)
    {
        var parent = new FakeParent(state ?? new FakeParentState(), AgentProcess.FreePort());
        await parent.StartAsync();
        return parent;
    }

    public async Task StartAsync()
    {
        // A port just released may still be settling: retry the bind briefly.
        IOException? last = null;
        var bound = await Wait.UntilAsync(async () =>
        {
            var app = Build();
            try
            {
                await app.StartAsync();
                _app = app;
                return true;
            }
            catch (IOException ex)
            {
                last = ex;
                await app.DisposeAsync();
                return false;
            }
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(250));
        if (!bound) throw new IOException($"could not bind {Address} within 5 s", last);
    }

    private WebApplication Build()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 64 * 1024 * 1024);
        builder.Services.AddSingleton(State);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        app.MapGrpcService<FakeUplinkService>();
        return app;
    }

    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
