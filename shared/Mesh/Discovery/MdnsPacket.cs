using System.Buffers.Binary;
using Makaretu.Dns;

namespace EdgeStream.Mesh.Discovery;

/// <summary>Why a received packet was not used.</summary>
public enum MdnsPacketError
{
    None,
    /// <summary>Shorter than the 12-byte header.</summary>
    TooShort,
    /// <summary>Longer than 9000 bytes (RFC 6762 §17).</summary>
    TooLong,
    /// <summary>The header counts more questions and records than the bytes could hold.</summary>
    CountsExceedLength,
    /// <summary>A label, name, record header or RDATA runs past the end of the packet.</summary>
    PastEnd,
    /// <summary>A label longer than 63 bytes or a name longer than 255 (RFC 1035 §3.1).</summary>
    NameTooLong,
    /// <summary>A label type other than 00 (label) and 11 (pointer) (RFC 1035 §4.1.4; 01 and 10 are not in use).</summary>
    BadLabelType,
    /// <summary>A compression pointer that does not point strictly before the name piece it ends (loops, forward pointers), or too many in one name.</summary>
    BadPointer,
    /// <summary>RDATA whose length does not match its type's content (an A record not 4 bytes, a PTR name not filling it…).</summary>
    BadRdata,
    /// <summary>Opcode other than 0 or a non-zero rcode: RFC 6762 §18.3 and §18.11 say to ignore such messages.</summary>
    NotMdns,
    /// <summary>Passed our checks but the decoder threw (e.g. a non-ASCII TXT string, which Makaretu.Dns refuses).</summary>
    Undecodable,
}

/// <summary>
/// The wire side of mDNS, no I/O: structural checks on received bytes before the decoder sees them, then
/// decoding with Makaretu.Dns (whose exceptions are caught: any of them means "ignore this packet").
/// </summary>
public static class MdnsPacket
{
    /// <summary>Largest mDNS message (RFC 6762 §17: 9000 bytes including IP and UDP headers, so the payload is smaller still).</summary>
    public const int MaxLength = 9000;

    private const int HeaderLength = 12;
    private const int MaxNameLength = 255;
    // A valid name needs at most 127 labels, so far fewer pointers; this bound only cuts hostile chains short.
    private const int MaxPointersPerName = 32;

    /// <summary>Checks then decodes <paramref name="packet"/>; on failure <paramref name="message"/> is null and the error says why.</summary>
    public static MdnsPacketError TryDecode(byte[] packet, int length, out Message? message)
    {
        message = null;
        var error = Validate(packet.AsSpan(0, length));
        if (error != MdnsPacketError.None) return error;
        try
        {
            message = (Message)new Message().Read(packet, 0, length);
            return MdnsPacketError.None;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The decoder trusts its input: KeyNotFoundException for a pointer into the middle of a name,
            // InvalidDataException for non-ASCII text, EndOfStreamException… The packet is ignored either way.
            return MdnsPacketError.Undecodable;
        }
    }

    /// <summary>
    /// Walks the whole message (RFC 1035 §4.1) without allocating: header counts against the length, every
    /// name (labels ≤ 63, names ≤ 255, pointers strictly backwards), every record's fixed part and RDATA inside
    /// the packet, and the RDATA of the types we read (A, AAAA, PTR, SRV, TXT) well formed.
    /// </summary>
    public static MdnsPacketError Validate(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < HeaderLength) return MdnsPacketError.TooShort;
        if (packet.Length > MaxLength) return MdnsPacketError.TooLong;

        var flags = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        // RFC 6762 §18.3: "Multicast DNS messages received with an OPCODE other than zero MUST be silently ignored";
        // §18.11: likewise a non-zero RCODE.
        if ((flags & 0x7800) != 0 || (flags & 0x000F) != 0) return MdnsPacketError.NotMdns;

        int qd = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        int an = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]);
        int ns = BinaryPrimitives.ReadUInt16BigEndian(packet[8..]);
        int ar = BinaryPrimitives.ReadUInt16BigEndian(packet[10..]);
        // A question is at least a 1-byte name + type + class, a record a 1-byte name + 10 bytes: reject
        // impossible counts before walking anything.
        if (qd * 5 + (an + ns + ar) * 11 > packet.Length - HeaderLength) return MdnsPacketError.CountsExceedLength;

        var pos = HeaderLength;
        for (var i = 0; i < qd; i++)
        {
            var error = SkipName(packet, ref pos);
            if (error != MdnsPacketError.None) return error;
            if (pos + 4 > packet.Length) return MdnsPacketError.PastEnd;
            pos += 4;
        }
        var records = an + ns + ar;
        for (var i = 0; i < records; i++)
        {
            var error = SkipName(packet, ref pos);
            if (error != MdnsPacketError.None) return error;
            // TYPE(2) CLASS(2) TTL(4) RDLENGTH(2)
            if (pos + 10 > packet.Length) return MdnsPacketError.PastEnd;
            var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(packet[pos..]);
            int rdLength = BinaryPrimitives.ReadUInt16BigEndian(packet[(pos + 8)..]);
            pos += 10;
            if (pos + rdLength > packet.Length) return MdnsPacketError.PastEnd;
            error = CheckRdata(packet, pos, rdLength, type);
            if (error != MdnsPacketError.None) return error;
            pos += rdLength;
        }
        return MdnsPacketError.None;
    }

    private static MdnsPacketError CheckRdata(ReadOnlySpan<byte> packet, int start, int length, DnsType type)
    {
        var end = start + length;
        var pos = start;
        switch (type)
        {
            case DnsType.A:
                return length == 4 ? MdnsPacketError.None : MdnsPacketError.BadRdata;
            case DnsType.AAAA:
                return length == 16 ? MdnsPacketError.None : MdnsPacketError.BadRdata;
            case DnsType.PTR or DnsType.CNAME or DnsType.NS or DnsType.DNAME:
            {
                // The name may point outside the RDATA, but its own bytes must fill the RDATA exactly.
                var error = SkipName(packet[..end], ref pos);
                if (error != MdnsPacketError.None) return error == MdnsPacketError.PastEnd ? MdnsPacketError.BadRdata : error;
                return pos == end ? MdnsPacketError.None : MdnsPacketError.BadRdata;
            }
            case DnsType.SRV:
            {
                // RFC 2782: priority(2) weight(2) port(2) target
                if (length < 7) return MdnsPacketError.BadRdata;
                pos += 6;
                var error = SkipName(packet[..end], ref pos);
                if (error != MdnsPacketError.None) return error == MdnsPacketError.PastEnd ? MdnsPacketError.BadRdata : error;
                return pos == end ? MdnsPacketError.None : MdnsPacketError.BadRdata;
            }
            case DnsType.TXT:
            {
                // RFC 1035 §3.3.14: one or more <character-string>s, each a length byte and that many bytes, filling the RDATA.
                while (pos < end)
                {
                    pos += 1 + packet[pos];
                    if (pos > end) return MdnsPacketError.BadRdata;
                }
                return MdnsPacketError.None;
            }
            default:
                return MdnsPacketError.None;
        }
    }

    /// <summary>
    /// Moves <paramref name="pos"/> past the name that starts there (past its first pointer, if any). Every
    /// pointer must point before the start of the piece it ends: each jump then moves strictly backwards,
    /// so no chain can loop, whatever the bytes.
    /// </summary>
    private static MdnsPacketError SkipName(ReadOnlySpan<byte> packet, ref int pos)
    {
        var cursor = pos;
        var pieceStart = pos;
        var nameLength = 1; // the root label
        var pointers = 0;
        var endOfName = -1; // where the caller continues: after the first pointer, or after the root label
        while (true)
        {
            if (cursor >= packet.Length) return MdnsPacketError.PastEnd;
            var b = packet[cursor];
            switch (b & 0xC0)
            {
                case 0x00:
                    if (b == 0)
                    {
                        pos = endOfName >= 0 ? endOfName : cursor + 1;
                        return MdnsPacketError.None;
                    }
                    if (cursor + 1 + b > packet.Length) return MdnsPacketError.PastEnd;
                    nameLength += 1 + b;
                    if (nameLength > MaxNameLength) return MdnsPacketError.NameTooLong;
                    cursor += 1 + b;
                    break;
                case 0xC0:
                    if (cursor + 2 > packet.Length) return MdnsPacketError.PastEnd;
                    var target = ((b & 0x3F) << 8) | packet[cursor + 1];
                    if (target >= pieceStart || ++pointers > MaxPointersPerName) return MdnsPacketError.BadPointer;
                    if (endOfName < 0) endOfName = cursor + 2;
                    pieceStart = target;
                    cursor = target;
                    break;
                default:
                    return MdnsPacketError.BadLabelType;
            }
        }
    }

    /// <summary>Encodes a message we built; throws <see cref="MeshException"/> if it outgrew an mDNS packet.</summary>
    public static byte[] Encode(Message message)
    {
        var bytes = message.ToByteArray();
        if (bytes.Length > MaxLength) throw new MeshException($"mDNS: a message of {bytes.Length} bytes is over the {MaxLength}-byte limit");
        return bytes;
    }
}
