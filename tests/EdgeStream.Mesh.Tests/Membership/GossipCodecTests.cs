using System.Buffers;
using System.Net;
using EdgeStream.Mesh.Gossip;
using EdgeStream.Mesh.Membership;
using MessagePack;
using Xunit;

namespace EdgeStream.Mesh.Tests.Membership;

/// <summary>
/// Not run beside other tests: the fuzz test measures the live heap before and after, and a
/// simulation allocating in a parallel test (seen in CI on 2 loaded cores: +22 MB) is not the codec's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuringCollection
{
    public const string Name = "heap measuring";
}

[Collection(HeapMeasuringCollection.Name)]
public class GossipCodecTests
{
    private static readonly GossipCodec Codec = new("fleet-a", "site");

    private static readonly MemberMetadata Meta = new()
    {
        Role = "gateway",
        UplinkAddress = "gw-1.plant.local:9095",
        GossipEndPoint = new IPEndPoint(IPAddress.Parse("192.168.1.20"), 7946),
        Load = new MemberLoad(1L << 40, 37, 5_000_000_000),
    };

    private static byte[] Datagram(GossipMessageType type, uint seq = 7, string? target = null, IPEndPoint? endPoint = null, params MemberUpdate[] updates)
    {
        var builder = new DatagramBuilder();
        builder.Begin(Codec, type, "gw-1", seq, target, endPoint);
        foreach (var u in updates) Assert.True(builder.TryAppend(GossipCodec.EncodeUpdate(u)));
        return builder.Datagram.ToArray();
    }

    [Fact]
    public void TryDecodeDatagram_EveryTypeAndUpdateKind_RoundTrips()
    {
        var v6 = new IPEndPoint(IPAddress.Parse("fd00::17"), 7946);
        var updates = new[]
        {
            MemberUpdate.Alive("edge-9", 3, Meta),
            MemberUpdate.Alive("edge-10", 0, Meta with { GossipEndPoint = v6, UplinkAddress = "", Parent = "gw-1" }),
            MemberUpdate.Suspect("edge-2", 12, "gw-1"),
            MemberUpdate.Dead("edge-3", GossipCodec.MaxIncarnation, "edge-3"),
        };
        var cases = new (GossipMessageType Type, string? Target, IPEndPoint? EndPoint)[]
        {
            (GossipMessageType.Ping, "edge-9", null),
            (GossipMessageType.PingReq, "edge-9", v6),
            (GossipMessageType.Ack, null, null),
            (GossipMessageType.Nack, null, null),
            (GossipMessageType.Gossip, null, null),
        };
        foreach (var (type, target, endPoint) in cases)
        {
            var decoded = new GossipDatagram();
            Assert.Equal(GossipDecodeStatus.Ok, Codec.TryDecodeDatagram(Datagram(type, 4_000_000_000, target, endPoint, updates), decoded));
            Assert.Equal(type, decoded.Type);
            Assert.Equal("gw-1", decoded.From);
            Assert.Equal(4_000_000_000u, decoded.Sequence);
            Assert.Equal(target, decoded.Target);
            Assert.Equal(endPoint, decoded.TargetEndPoint);
            Assert.Equal(updates, decoded.Updates);
            Assert.True(decoded.Updates[3].IsLeave);
        }
    }

    [Fact]
    public void TryDecodePushPull_FullState_RoundTrips()
    {
        var members = Enumerable.Range(0, 300).Select(i => new MemberRecord($"edge-{i}", i, (MemberState)(1 + i % 4), Meta)).ToList();
        var state = new PushPullState();
        Assert.Equal(GossipDecodeStatus.Ok, Codec.TryDecodePushPull(Codec.EncodePushPull("gw-1", join: true, members), 10_000, state));
        Assert.Equal("gw-1", state.From);
        Assert.True(state.Join);
        Assert.Equal(members, state.Members);
        Assert.Equal(GossipDecodeStatus.Malformed, Codec.TryDecodePushPull(Codec.EncodePushPull("gw-1", false, members), 299, state));
    }

    [Fact]
    public void TryDecodeDatagram_OtherClusterScopeOrVersion_ReportedNotDecoded()
    {
        var datagram = Datagram(GossipMessageType.Ping, target: "x");
        var into = new GossipDatagram();
        Assert.Equal(GossipDecodeStatus.ForeignCluster, new GossipCodec("fleet-b", "site").TryDecodeDatagram(datagram, into));
        Assert.Equal(GossipDecodeStatus.ForeignScope, new GossipCodec("fleet-a", "upstream").TryDecodeDatagram(datagram, into));
        var v2 = (byte[])datagram.Clone();
        v2[1] = 2; // [fixarray, version=1, …]: the version is the first element
        Assert.Equal(GossipDecodeStatus.UnsupportedVersion, Codec.TryDecodeDatagram(v2, into));
    }

    [Fact]
    public void TryDecodeDatagram_NewerPeer_UnknownTypeIgnoredUnknownKindSkippedExtraFieldsSkipped()
    {
        // A message type from a later version: ignored whole.
        Assert.Equal(GossipDecodeStatus.UnknownType, Codec.TryDecodeDatagram(Raw((ref MessagePackWriter w) => Envelope(ref w, type: 42, extra: 0)), new GossipDatagram()));
        // Extra envelope fields, an update of a later kind, and extra fields in a known update and its metadata.
        var datagram = Raw((ref MessagePackWriter w) =>
        {
            Envelope(ref w, type: (byte)GossipMessageType.Gossip, extra: 2);
            w.WriteArrayHeader(5); w.Write(9); w.Write("edge-1"); w.Write(1); w.Write("future"); w.WriteArrayHeader(2); w.Write(1); w.Write(2);
            w.WriteArrayHeader(5); w.Write(2); w.Write("edge-2"); w.Write(4); w.Write("gw-7"); w.WriteMapHeader(1); w.Write("k"); w.Write("v");
        });
        var into = new GossipDatagram();
        Assert.Equal(GossipDecodeStatus.Ok, Codec.TryDecodeDatagram(datagram, into));
        Assert.Equal(1, into.UnknownUpdates);
        Assert.Equal([MemberUpdate.Suspect("edge-2", 4, "gw-7")], into.Updates);
    }

    [Fact]
    public void TryDecodeDatagram_MetadataWithoutParent_FromAVersionBeforeParentChoice_ReadsAsNone()
    {
        // role, uplink, addr, port, backlog, children, disk free: the seven fields without a parent.
        var datagram = Raw((ref MessagePackWriter w) =>
        {
            Envelope(ref w, type: (byte)GossipMessageType.Gossip, extra: 0);
            w.WriteArrayHeader(4); w.Write(1); w.Write("edge-1"); w.Write(3);
            w.WriteArrayHeader(7); w.Write("edge"); w.Write(""); w.Write(new byte[] { 10, 0, 0, 7 }); w.Write(7946); w.Write(0); w.Write(0); w.Write(0);
        });
        var into = new GossipDatagram();
        Assert.Equal(GossipDecodeStatus.Ok, Codec.TryDecodeDatagram(datagram, into));
        Assert.Equal("", into.Updates.Single().Metadata!.Parent);
    }

    public static TheoryData<string, byte[]> HostileDatagrams()
    {
        var data = new TheoryData<string, byte[]>
        {
            { "empty", [] },
            { "nil", [0xc0] },
            { "array32 claiming 4G elements", [0xdd, 0xff, 0xff, 0xff, 0xff] },
            { "str32 claiming 4 GB", Raw((ref MessagePackWriter w) => { w.WriteArrayHeader(6); w.Write(1); }).Concat(new byte[] { 0xdb, 0x7f, 0xff, 0xff, 0xff }).ToArray() },
            { "node id too long", Raw((ref MessagePackWriter w) => { w.WriteArrayHeader(6); w.Write(1); w.Write("fleet-a"); w.Write("site"); w.Write(5); w.Write(new string('a', 65)); w.Write(0); }) },
            { "node id with a space", Raw((ref MessagePackWriter w) => { w.WriteArrayHeader(6); w.Write(1); w.Write("fleet-a"); w.Write("site"); w.Write(5); w.Write("gw 1"); w.Write(0); }) },
            { "negative incarnation", Raw((ref MessagePackWriter w) => { Envelope(ref w, 5, 0); w.WriteArrayHeader(4); w.Write(2); w.Write("e"); w.Write(-1); w.Write("f"); }) },
            { "incarnation over the limit", Raw((ref MessagePackWriter w) => { Envelope(ref w, 5, 0); w.WriteArrayHeader(4); w.Write(2); w.Write("e"); w.Write(GossipCodec.MaxIncarnation + 1); w.Write("f"); }) },
            { "address of 5 bytes", Raw((ref MessagePackWriter w) => { Envelope(ref w, 2, 0, target: false); w.Write("t"); w.Write(new byte[5]); w.Write(7946); }) },
            { "port 0", Raw((ref MessagePackWriter w) => { Envelope(ref w, 2, 0, target: false); w.Write("t"); w.Write(new byte[4]); w.Write(0); }) },
            { "ping without target", Raw((ref MessagePackWriter w) => { w.WriteArrayHeader(6); w.Write(1); w.Write("fleet-a"); w.Write("site"); w.Write(1); w.Write("gw"); w.Write(0); }) },
            { "truncated update", Datagram(GossipMessageType.Gossip, updates: MemberUpdate.Alive("e", 1, Meta))[..^3] },
            { "too many updates", Raw((ref MessagePackWriter w) => { Envelope(ref w, 5, 0); for (var i = 0; i <= GossipCodec.MaxUpdatesPerDatagram; i++) { w.WriteArrayHeader(4); w.Write(2); w.Write("e"); w.Write(1); w.Write("f"); } }) },
            { "parent that is not a node id", Raw((ref MessagePackWriter w) => { Envelope(ref w, 5, 0); w.WriteArrayHeader(4); w.Write(1); w.Write("e"); w.Write(1); w.WriteArrayHeader(8); w.Write("edge"); w.Write(""); w.Write(new byte[4]); w.Write(7946); w.Write(0); w.Write(0); w.Write(0); w.Write("../gw"); }) },
            { "deep nesting in an extra field", Raw((ref MessagePackWriter w) => { Envelope(ref w, 5, 1); for (var i = 0; i < 1300; i++) w.WriteArrayHeader(1); w.WriteNil(); }) },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(HostileDatagrams))]
    public void TryDecodeDatagram_HostileInput_MalformedWithoutThrowing(string what, byte[] datagram)
    {
        Assert.NotNull(what);
        var status = Codec.TryDecodeDatagram(datagram, new GossipDatagram());
        Assert.NotEqual(GossipDecodeStatus.Ok, status);
    }

    [Fact]
    public void TryDecodePushPull_MegabyteOfNestedArrays_RejectedWithoutStackOverflow()
    {
        var payload = Raw((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(8); w.Write(1); w.Write("fleet-a"); w.Write("site"); w.Write(6); w.Write("gw"); w.Write(false); w.WriteArrayHeader(0);
            for (var i = 0; i < 1_000_000; i++) w.WriteArrayHeader(1);
        });
        Assert.Equal(GossipDecodeStatus.Malformed, Codec.TryDecodePushPull(payload, 10_000, new PushPullState()));
    }

    [Fact]
    public void DatagramBuilder_UpdatesBeyondTheLimit_NotAppended()
    {
        var builder = new DatagramBuilder();
        builder.Begin(Codec, GossipMessageType.Ping, "gw-1", 1, "edge-1");
        var update = GossipCodec.EncodeUpdate(MemberUpdate.Alive("edge-12345", 99, Meta));
        var appended = 0;
        while (builder.TryAppend(update)) appended++;
        Assert.True(builder.Length <= GossipCodec.MaxDatagramBytes);
        Assert.True(builder.Length + update.Length > GossipCodec.MaxDatagramBytes);
        var decoded = new GossipDatagram();
        Assert.Equal(GossipDecodeStatus.Ok, Codec.TryDecodeDatagram(builder.Datagram.ToArray(), decoded));
        Assert.Equal(appended, decoded.Updates.Count);
    }

    /// <summary>
    /// 100 000 random and mutated datagrams and 20 000 push-pull states: decoding never throws,
    /// and hostile lengths never made it allocate what they claimed. Fixed seed, so failures replay.
    /// </summary>
    [Fact]
    public void Decode_FuzzedInput_NeverThrowsAndMemoryStaysBounded()
    {
        var random = new Random(20250611);
        var corpus = new List<byte[]>
        {
            Datagram(GossipMessageType.Ping, 1, "edge-1", null, MemberUpdate.Alive("edge-9", 3, Meta), MemberUpdate.Suspect("edge-2", 12, "gw-1")),
            Datagram(GossipMessageType.PingReq, 2, "edge-1", new IPEndPoint(IPAddress.Loopback, 9), MemberUpdate.Dead("edge-3", 1, "gw-1")),
            Datagram(GossipMessageType.Ack, 3),
            Datagram(GossipMessageType.Gossip, 0, null, null, MemberUpdate.Alive("edge-10", 0, Meta)),
        };
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var counts = new int[Enum.GetValues<GossipDecodeStatus>().Length];
        var into = new GossipDatagram();
        for (var i = 0; i < 100_000; i++)
        {
            var input = Mutate(random, corpus[random.Next(corpus.Count)]);
            counts[(int)Codec.TryDecodeDatagram(input, into)]++;
        }
        var state = new PushPullState();
        var pushPull = Codec.EncodePushPull("gw-1", false, Enumerable.Range(0, 20).Select(i => new MemberRecord($"e-{i}", i, MemberState.Alive, Meta)).ToList());
        for (var i = 0; i < 20_000; i++)
            counts[(int)Codec.TryDecodePushPull(Mutate(random, pushPull), 10_000, state)]++;
        var after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.True(counts[(int)GossipDecodeStatus.Ok] > 1000, $"only {counts[0]} decoded: the mutations are too destructive to test much");
        Assert.True(counts[(int)GossipDecodeStatus.Malformed] > 10_000);
        Assert.True(after - before < 16L * 1024 * 1024, $"{after - before} bytes more live after the fuzz run");
    }

    private static byte[] Mutate(Random random, byte[] source)
    {
        switch (random.Next(5))
        {
            case 0:
                var noise = new byte[random.Next(1, 200)];
                random.NextBytes(noise);
                return noise;
            case 1:
                return source[..random.Next(source.Length)];
            case 2:
                // A length or count prefix pushed to its maximum: str32/bin32/array32 with 0xffffffff.
                var big = (byte[])source.Clone();
                var at = random.Next(big.Length - 5);
                big[at] = (byte)(random.Next(3) switch { 0 => 0xdb, 1 => 0xc6, _ => 0xdd });
                big[at + 1] = big[at + 2] = big[at + 3] = big[at + 4] = 0xff;
                return big;
            default:
                var copy = (byte[])source.Clone();
                for (var f = random.Next(1, 4); f > 0; f--)
                {
                    var pos = random.Next(copy.Length);
                    copy[pos] = random.Next(2) == 0 ? (byte)random.Next(256) : (byte)(copy[pos] ^ (1 << random.Next(8)));
                }
                return copy;
        }
    }

    private delegate void WriteAction(ref MessagePackWriter writer);

    private static byte[] Raw(WriteAction write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        write(ref w);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static void Envelope(ref MessagePackWriter w, byte type, int extra, bool target = false)
    {
        var fields = type switch { 1 => 7, 2 => 9, _ => 6 } + extra;
        w.WriteArrayHeader(fields);
        w.Write(1);
        w.Write("fleet-a");
        w.Write("site");
        w.Write(type);
        w.Write("gw-1");
        w.Write(5u);
        if (target) w.Write("t");
        for (var i = 0; i < extra; i++) w.Write(i);
    }
}
