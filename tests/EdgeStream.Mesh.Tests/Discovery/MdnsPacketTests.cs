using System.Buffers.Binary;
using EdgeStream.Mesh.Discovery;
using Makaretu.Dns;
using Xunit;
using static EdgeStream.Mesh.Tests.Discovery.MdnsTestKit;

namespace EdgeStream.Mesh.Tests.Discovery;

/// <summary>Hostile and broken packets: refused by our checks or by the decoder, counted, never thrown, never looping.</summary>
public class MdnsPacketTests
{
    private static byte[] ValidAnnouncement() => MdnsPacket.Encode(AnnouncementOf(Options(), LinkA));

    /// <summary>Header with the given counts, then <paramref name="body"/>.</summary>
    private static byte[] Packet(int qd, int an, ReadOnlySpan<byte> body, ushort flags = 0x8400)
    {
        var bytes = new byte[12 + body.Length];
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)qd);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), (ushort)an);
        body.CopyTo(bytes.AsSpan(12));
        return bytes;
    }

    private static MdnsPacketError Decode(byte[] packet) => MdnsPacket.TryDecode(packet, packet.Length, out _);

    [Fact]
    public void Validate_OwnAnnouncement_Accepted()
    {
        var packet = ValidAnnouncement();
        Assert.Equal(MdnsPacketError.None, MdnsPacket.Validate(packet));
        Assert.Equal(MdnsPacketError.None, Decode(packet));
    }

    [Fact]
    public void Validate_PointerToItself_BadPointer()
    {
        // Question name at offset 12 is a pointer to offset 12.
        Assert.Equal(MdnsPacketError.BadPointer, Decode(Packet(1, 0, [0xC0, 12, 0, 1, 0, 1])));
    }

    [Fact]
    public void Validate_LabelThenPointerBackToItsStart_BadPointer()
    {
        // "a" then a pointer to the name's own first byte: a backward pointer that still loops.
        Assert.Equal(MdnsPacketError.BadPointer, Decode(Packet(1, 0, [1, (byte)'a', 0xC0, 12, 0, 1, 0, 1])));
    }

    [Fact]
    public void Validate_TwoNamesPointingAtEachOther_BadPointer()
    {
        // Name 1 (offset 12) points forward to name 2 (offset 18), which points back to name 1.
        Assert.Equal(MdnsPacketError.BadPointer, Decode(Packet(2, 0, [0xC0, 18, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1])));
    }

    [Fact]
    public void Validate_PointerPastTheEnd_BadPointer()
    {
        Assert.Equal(MdnsPacketError.BadPointer, Decode(Packet(1, 0, [0xFF, 0xFF, 0, 1, 0, 1])));
    }

    [Fact]
    public void Validate_ChainOfManyPointers_Refused()
    {
        // 40 names each pointing at the previous one: legal direction, but a chain no sane packet has.
        var body = new List<byte> { 1, (byte)'a', 0, 0, 1, 0, 1 };
        var offsets = new List<int> { 12 };
        for (var i = 1; i < 40; i++)
        {
            offsets.Add(12 + body.Count);
            body.AddRange([(byte)(0xC0 | (offsets[i - 1] >> 8)), (byte)offsets[i - 1], 0, 1, 0, 1]);
        }
        // The last name: a label, then a pointer to the end of the chain (40 hops).
        var packet = Packet(41, 0, [.. body, 1, (byte)'b', (byte)(0xC0 | (offsets[^1] >> 8)), (byte)offsets[^1], 0, 1, 0, 1]);
        Assert.Equal(MdnsPacketError.BadPointer, MdnsPacket.Validate(packet));
    }

    [Fact]
    public void Validate_LabelLongerThanThePacket_PastEnd()
    {
        Assert.Equal(MdnsPacketError.PastEnd, Decode(Packet(1, 0, [50, (byte)'a', (byte)'b', 0, 0, 1, 0, 1])));
    }

    [Fact]
    public void Validate_RdlengthPastTheEnd_PastEnd()
    {
        // Answer: root name, type A, class IN, TTL, rdlength 0x4000 with 4 bytes present.
        Assert.Equal(MdnsPacketError.PastEnd, Decode(Packet(0, 1, [0, 0, 1, 0, 1, 0, 0, 0, 120, 0x40, 0x00, 10, 0, 0, 1])));
    }

    [Fact]
    public void Validate_CountsTheBytesCannotHold_CountsExceedLength()
    {
        Assert.Equal(MdnsPacketError.CountsExceedLength, Decode(Packet(0xFFFF, 0xFFFF, [0, 0, 1, 0, 1])));
    }

    [Fact]
    public void Validate_NameOver255Bytes_NameTooLong()
    {
        var body = new List<byte>();
        for (var i = 0; i < 130; i++) body.AddRange([1, (byte)'x']);
        body.AddRange([0, 0, 1, 0, 1]);
        Assert.Equal(MdnsPacketError.NameTooLong, Decode(Packet(1, 0, body.ToArray())));
    }

    [Fact]
    public void Validate_ReservedLabelType_BadLabelType()
    {
        Assert.Equal(MdnsPacketError.BadLabelType, Decode(Packet(1, 0, [0x40, 0, 0, 1, 0, 1])));
    }

    [Fact]
    public void Validate_ARecordOfFiveBytes_BadRdata()
    {
        Assert.Equal(MdnsPacketError.BadRdata, Decode(Packet(0, 1, [0, 0, 1, 0, 1, 0, 0, 0, 120, 0, 5, 10, 0, 0, 1, 9])));
    }

    [Fact]
    public void Validate_TxtStringOverrunningItsRdata_BadRdata()
    {
        Assert.Equal(MdnsPacketError.BadRdata, Decode(Packet(0, 1, [0, 0, 16, 0, 1, 0, 0, 0, 120, 0, 3, 5, (byte)'a', (byte)'b', 0, 0])));
    }

    [Fact]
    public void Validate_PtrNameShorterThanItsRdata_BadRdata()
    {
        Assert.Equal(MdnsPacketError.BadRdata, Decode(Packet(0, 1, [0, 0, 12, 0, 1, 0, 0, 0, 120, 0, 4, 1, (byte)'a', 0, 7])));
    }

    [Fact]
    public void Validate_NonZeroOpcodeOrRcode_NotMdns()
    {
        Assert.Equal(MdnsPacketError.NotMdns, Decode(Packet(0, 0, [], flags: 0x8400 | 0x2800)));
        Assert.Equal(MdnsPacketError.NotMdns, Decode(Packet(0, 0, [], flags: 0x8403)));
    }

    [Fact]
    public void Decode_EveryTruncationOfAValidPacket_RefusedWithoutThrowing()
    {
        var packet = ValidAnnouncement();
        for (var length = 0; length < packet.Length; length++)
            Assert.NotEqual(MdnsPacketError.None, MdnsPacket.TryDecode(packet, length, out _));
    }

    [Fact]
    public void Decode_NonAsciiTxt_UndecodableNotThrown()
    {
        // Structurally fine, but Makaretu.Dns refuses non-ASCII character-strings: caught and counted.
        var packet = ValidAnnouncement();
        var at = packet.AsSpan().IndexOf("role="u8);
        packet[at] = 0xC3;
        Assert.Equal(MdnsPacketError.None, MdnsPacket.Validate(packet));
        Assert.Equal(MdnsPacketError.Undecodable, Decode(packet));
    }

    [Fact]
    public void Decode_PointerIntoTheMiddleOfALabel_UndecodableNotThrown()
    {
        // Backwards (our check passes) but not at a label start the decoder saw: it throws, we catch.
        // Name 1 is one 3-byte label "\x01x\0"; name 2 points at its second byte, which reads as the label "x".
        var packet = Packet(2, 0, [3, 1, (byte)'x', 0, 0, 0, 1, 0, 1, 0xC0, 13, 0, 1, 0, 1]);
        Assert.Equal(MdnsPacketError.None, MdnsPacket.Validate(packet));
        Assert.Equal(MdnsPacketError.Undecodable, Decode(packet));
    }

    [Fact]
    public void Fuzz_100kRandomAndMutatedPackets_NeverThrow_BoundedMemory_CoresKeepRunning()
    {
        var random = new Random(20260101);
        var valid = ValidAnnouncement();
        var query = MdnsPacket.Encode(Query((Service, DnsType.PTR, false), (MdnsNames.InstanceName("edge-a", Service), DnsType.ANY, true)));
        var clock = new ManualClock();
        var (responder, _) = Announced();
        var browser = new MdnsBrowser(Options(nodeId: "edge-fuzz"), clock, new Random(9));
        browser.Start([LinkA]);
        var output = new List<MdnsSend>();
        var counts = new Dictionary<MdnsPacketError, int>();
        var buffer = new byte[MdnsPacket.MaxLength + 1];

        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        const int Packets = 100_000;
        for (var i = 0; i < Packets; i++)
        {
            int length;
            switch (i % 4)
            {
                case 0: // random bytes, random length (some over the mDNS maximum)
                    length = random.Next(0, i % 1000 == 0 ? buffer.Length : 600);
                    random.NextBytes(buffer.AsSpan(0, length));
                    break;
                case 1: // random body behind a plausible header
                    length = random.Next(12, 300);
                    random.NextBytes(buffer.AsSpan(0, length));
                    BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), 0x8400);
                    BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4), (uint)random.Next(0, 4) << 16 | (uint)random.Next(0, 6));
                    break;
                default: // a real announcement or query with a few bytes changed
                {
                    var source = i % 4 == 2 ? valid : query;
                    length = source.Length;
                    source.CopyTo(buffer, 0);
                    for (var flips = random.Next(1, 5); flips > 0; flips--) buffer[random.Next(length)] = (byte)random.Next(256);
                    break;
                }
            }
            var error = MdnsPacket.TryDecode(buffer, length, out var message);
            counts[error] = counts.GetValueOrDefault(error) + 1;
            if (message is null) continue;
            // What decodes goes through both state machines, as in the service's loop: nothing may throw.
            responder.Receive(message, LinkA, Querier, output);
            browser.Receive(message, LinkA, Querier, output);
            output.Clear();
            if (i % 1000 == 0)
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                responder.Tick(output);
                browser.Tick(output);
                output.Clear();
            }
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);

        Assert.True(counts.GetValueOrDefault(MdnsPacketError.None) > 1000, Describe(counts));
        Assert.True(counts.Keys.Count(k => k != MdnsPacketError.None) >= 6, Describe(counts));
        // Bounded: no packet makes the decoder allocate by a length it read (at most a few KiB per packet on
        // average), and nothing accumulates: the browser's cache is capped.
        Assert.True(allocated / Packets < 64 * 1024, $"{allocated / Packets} bytes allocated per packet");
        Assert.True(heapAfter - heapBefore < 64L * 1024 * 1024, $"heap grew by {(heapAfter - heapBefore) / 1024} KiB");
        Assert.True(browser.CachedRecords <= 4096);
    }

    private static string Describe(Dictionary<MdnsPacketError, int> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"));
}
