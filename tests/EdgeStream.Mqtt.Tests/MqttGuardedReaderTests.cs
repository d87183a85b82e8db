using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using EdgeStream.Mqtt.Limits;

namespace EdgeStream.Mqtt.Tests;

/// <summary>The guard's reader over an in-memory pipe, the input written whole and in chunks of 1, 7 and 100 bytes.</summary>
public sealed class MqttGuardedReaderTests
{
    private static async Task<(byte[] Read, MqttViolation Violation, MqttViolation Reported)> RunAsync(byte[] input, int chunk, int maxPacket = 4096, int maxInflight = 10)
    {
        var pipe = new Pipe();
        var reported = MqttViolation.None;
        var reader = new MqttGuardedReader(pipe.Reader, new MqttConnectionState(null), maxPacket, maxInflight,
            (_, v) => { reported = v; return ValueTask.CompletedTask; });
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < input.Length; i += chunk)
            {
                await pipe.Writer.WriteAsync(input.AsMemory(i, Math.Min(chunk, input.Length - i)));
            }
            await pipe.Writer.CompleteAsync();
        });
        var read = new List<byte>();
        for (var rounds = 0; rounds < 100_000; rounds++)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            // Like MQTTnet: consume whole packets only, examine everything.
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            while (MqttFrameScanner.TryReadFixedHeader(buffer.Slice(consumed), out _, out var h, out var r) == MqttFrameStatus.Ok
                   && buffer.Slice(consumed).Length >= h + r)
            {
                var packet = buffer.Slice(consumed, h + r);
                read.AddRange(packet.ToArray());
                consumed = packet.End;
            }
            reader.AdvanceTo(consumed, buffer.End);
            if (result.IsCompleted) break;
        }
        await writer;
        return (read.ToArray(), reader.Violation, reported);
    }

    public static TheoryData<int> Chunks => new() { 1, 7, 100, 100_000 };

    [Theory, MemberData(nameof(Chunks))]
    public async Task ValidPackets_HandedOverUnchanged(int chunk)
    {
        byte[] input = [.. MqttPackets.Connect311("c1"), .. MqttPackets.Publish("a/b", new byte[300], 1, 1),
            .. MqttPackets.Publish("q2", "x"u8.ToArray(), 2, 5), .. MqttPackets.PubRel(5), .. MqttPackets.PingReq];
        var (read, violation, _) = await RunAsync(input, chunk);
        Assert.Equal(MqttViolation.None, violation);
        Assert.Equal(input, read);
    }

    [Theory, MemberData(nameof(Chunks))]
    public async Task EmptyClientIdCleanSession311_RewrittenWithGeneratedId(int chunk)
    {
        var publish = MqttPackets.Publish("t", "v"u8.ToArray(), 0);
        var (read, violation, _) = await RunAsync([.. MqttPackets.Connect311(""), .. publish], chunk);
        Assert.Equal(MqttViolation.None, violation);
        var idLength = read[12] << 8 | read[13];
        var id = Encoding.UTF8.GetString(read, 14, idLength);
        Assert.Matches("^edgestream-[0-9a-f]{16}$", id);
        Assert.Equal(10 + 2 + idLength, read[1]); // remaining length fixed up
        Assert.Equal(publish, read[^publish.Length..]);
    }

    [Theory, MemberData(nameof(Chunks))]
    public async Task EmptyClientIdPersistentSessionOrMqtt5_NotRewritten(int chunk)
    {
        byte[] input = [.. MqttPackets.Connect311("", cleanSession: false)];
        Assert.Equal(input, (await RunAsync(input, chunk)).Read);
        input = MqttPackets.Connect5("");
        Assert.Equal(input, (await RunAsync(input, chunk)).Read);
    }

    [Theory, MemberData(nameof(Chunks))]
    public async Task OversizedPacket_ClosedAfterItsHeader_EarlierPacketsDropped(int chunk)
    {
        byte[] input = [.. MqttPackets.Connect311("c1"), .. MqttPackets.PublishHeader(5000), .. new byte[100]];
        var (read, violation, reported) = await RunAsync(input, chunk);
        Assert.Equal(MqttViolation.PacketTooLarge, violation);
        Assert.Equal(MqttViolation.PacketTooLarge, reported);
        Assert.True(read.Length <= MqttPackets.Connect311("c1").Length);
    }

    [Theory, MemberData(nameof(Chunks))]
    public async Task HostileFraming_Violations(int chunk)
    {
        Assert.Equal(MqttViolation.Malformed, (await RunAsync([0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], chunk)).Violation);
        Assert.Equal(MqttViolation.ProtocolError, (await RunAsync(MqttPackets.PingReq, chunk)).Violation);
        Assert.Equal(MqttViolation.ProtocolError, (await RunAsync([.. MqttPackets.Connect311("a"), .. MqttPackets.Connect311("a")], chunk)).Violation);
        Assert.Equal(MqttViolation.Malformed, (await RunAsync([.. MqttPackets.Connect311("a"), 0x00, 0x00], chunk)).Violation);
    }

    [Theory, MemberData(nameof(Chunks))]
    public async Task Qos2WithoutPubRel_OverMaxInflight_Violation(int chunk)
    {
        var input = new List<byte>(MqttPackets.Connect311("a"));
        for (ushort id = 1; id <= 11; id++) input.AddRange(MqttPackets.Publish("t", "x"u8.ToArray(), 2, id));
        Assert.Equal(MqttViolation.ReceiveMaximumExceeded, (await RunAsync([.. input], chunk)).Violation);

        // The same ids released one by one stay within the limit.
        input = new List<byte>(MqttPackets.Connect311("a"));
        for (ushort id = 1; id <= 30; id++)
        {
            input.AddRange(MqttPackets.Publish("t", "x"u8.ToArray(), 2, id));
            input.AddRange(MqttPackets.PubRel(id));
        }
        Assert.Equal(MqttViolation.None, (await RunAsync([.. input], chunk)).Violation);
    }
}
