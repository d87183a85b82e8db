using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeStream.Mesh.Membership;
using MessagePack;

namespace EdgeStream.Mesh.Gossip;

/// <summary>
/// The gossip wire format: MessagePack written with <see cref="MessagePackWriter"/> and read with
/// <see cref="MessagePackReader"/> (no reflection, so NativeAOT-safe). No I/O. One instance per
/// membership scope: it stamps and checks the cluster name and scope of every message.
/// <code>
/// datagram := envelope update*                              (at most MaxDatagramBytes)
/// envelope := [ version=1, cluster:str, scope:str, type:uint, from:str, seq:uint, type-fields..., extra* ]
///   Ping:    target:str
///   PingReq: target:str, targetAddr:bin(4|16), targetPort:uint
///   Ack, Nack, Gossip: (none)
/// update   := [ kind:uint, node:str, incarnation:uint, kind-fields..., extra* ]
///   Alive:   meta
///   Suspect, Dead: from:str
/// meta     := [ role:str, uplink:str, addr:bin(4|16), port:uint, backlogBytes:uint, children:uint, diskFreeBytes:uint, parent:str?, extra* ]
///   parent (since the mesh chose parents itself): the member's current parent node id, empty for none; absent = unknown
/// pushpull := [ version=1, cluster:str, scope:str, type=6, from:str, join:bool, [ member* ], extra* ]   (stream only)
/// member   := [ node:str, incarnation:uint, state:uint, meta, extra* ]
/// </code>
/// Every array may carry extra trailing fields (a newer version's), which are skipped; an update of
/// an unknown kind is skipped and counted. Updates follow the envelope as separate top-level
/// objects, so a sender packs them until the datagram is full without a count to patch.
/// </summary>
public sealed class GossipCodec
{
    public const int FormatVersion = 1;

    /// <summary>
    /// Largest datagram sent: 1400 bytes stays under a 1500-byte Ethernet MTU with IPv6 and
    /// tunnel headers (VPN, VXLAN), so a datagram is never fragmented and lost whole for one lost fragment.
    /// </summary>
    public const int MaxDatagramBytes = 1400;

    /// <summary>Node ids, cluster names and scopes: 1–64 of <c>A-Z a-z 0-9 . _ -</c> (the agent's node id rule).</summary>
    public const int MaxNameLength = 64;

    /// <summary>Roles: 1–32 printable ASCII characters.</summary>
    public const int MaxRoleLength = 32;

    /// <summary>Uplink addresses (<c>HOST:PORT</c>): up to 255 printable ASCII characters.</summary>
    public const int MaxUplinkLength = 255;

    /// <summary>Updates accepted in one datagram (a 1400-byte datagram holds ~90 of the smallest).</summary>
    public const int MaxUpdatesPerDatagram = 128;

    /// <summary>
    /// Highest incarnation accepted: far above anything reachable by refutations, and low enough that
    /// a refutation (+1) of a forged maximum cannot overflow.
    /// </summary>
    public const long MaxIncarnation = 1L << 62;

    private const int EnvelopeFields = 6;
    private const int UpdateFields = 3;
    private const int MetaFields = 7;
    private const int MetaFieldsWithParent = MetaFields + 1;
    private const int PushPullFields = 7;
    private const int RecordFields = 4;

    private readonly byte[] _cluster;
    private readonly byte[] _scope;

    public GossipCodec(string cluster, string scope)
    {
        if (!IsValidName(cluster)) throw new MeshException($"cluster name '{cluster}' is not 1-{MaxNameLength} of A-Z a-z 0-9 . _ -");
        if (!IsValidName(scope)) throw new MeshException($"scope '{scope}' is not 1-{MaxNameLength} of A-Z a-z 0-9 . _ -");
        Cluster = cluster;
        Scope = scope;
        _cluster = Encoding.ASCII.GetBytes(cluster);
        _scope = Encoding.ASCII.GetBytes(scope);
    }

    public string Cluster { get; }

    public string Scope { get; }

    /// <summary>True for a valid node id, cluster name or scope: 1–64 of <c>A-Z a-z 0-9 . _ -</c>.</summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength) return false;
        foreach (var c in name)
            if (c > 0x7f || !IsNameByte((byte)c)) return false;
        return true;
    }

    /// <summary>True for a role: 1–32 printable ASCII characters.</summary>
    public static bool IsValidRole(string? role) => !string.IsNullOrEmpty(role) && role.Length <= MaxRoleLength && IsPrintableAscii(role);

    /// <summary>True for an uplink address: empty or up to 255 printable ASCII characters.</summary>
    public static bool IsValidUplink(string? uplink) => uplink is not null && uplink.Length <= MaxUplinkLength && IsPrintableAscii(uplink);

    // ---- encoding ----

    /// <summary>Writes a datagram's envelope; updates go after it with <see cref="DatagramBuilder.TryAppend"/>.</summary>
    public void WriteEnvelope(IBufferWriter<byte> output, GossipMessageType type, string from, uint sequence, string? target = null, IPEndPoint? targetEndPoint = null)
    {
        var w = new MessagePackWriter(output);
        var fields = type switch
        {
            GossipMessageType.Ping => EnvelopeFields + 1,
            GossipMessageType.PingReq => EnvelopeFields + 3,
            _ => EnvelopeFields,
        };
        w.WriteArrayHeader(fields);
        WriteHeader(ref w, type, from);
        w.Write(sequence);
        if (type is GossipMessageType.Ping or GossipMessageType.PingReq)
            w.Write(target ?? throw new ArgumentNullException(nameof(target)));
        if (type == GossipMessageType.PingReq)
            WriteEndPoint(ref w, targetEndPoint ?? throw new ArgumentNullException(nameof(targetEndPoint)));
        w.Flush();
    }

    /// <summary>Encodes one update as its own MessagePack object, ready to be appended to datagrams.</summary>
    public static byte[] EncodeUpdate(in MemberUpdate update)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(UpdateFields + 1);
        w.Write((byte)update.Kind);
        w.Write(update.NodeId);
        w.Write(update.Incarnation);
        if (update.Kind == MemberUpdateKind.Alive)
            WriteMetadata(ref w, update.Metadata ?? throw new ArgumentException("an alive update needs metadata", nameof(update)));
        else
            w.Write(update.From ?? throw new ArgumentException("a suspect or dead update needs From", nameof(update)));
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a push-pull request or reply.</summary>
    public byte[] EncodePushPull(string from, bool join, IReadOnlyList<MemberRecord> members)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + members.Count * 96);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(PushPullFields);
        WriteHeader(ref w, GossipMessageType.PushPull, from);
        w.Write(join);
        w.WriteArrayHeader(members.Count);
        foreach (var m in members)
        {
            w.WriteArrayHeader(RecordFields);
            w.Write(m.NodeId);
            w.Write(m.Incarnation);
            w.Write((byte)m.State);
            WriteMetadata(ref w, m.Metadata);
        }
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private void WriteHeader(ref MessagePackWriter w, GossipMessageType type, string from)
    {
        w.Write(FormatVersion);
        w.WriteString(_cluster);
        w.WriteString(_scope);
        w.Write((byte)type);
        w.Write(from);
    }

    private static void WriteMetadata(ref MessagePackWriter w, MemberMetadata meta)
    {
        w.WriteArrayHeader(MetaFieldsWithParent);
        w.Write(meta.Role);
        w.Write(meta.UplinkAddress);
        WriteEndPoint(ref w, meta.GossipEndPoint);
        w.Write(meta.Load.BacklogBytes);
        w.Write(meta.Load.Children);
        w.Write(meta.Load.DiskFreeBytes);
        w.Write(meta.Parent);
    }

    private static void WriteEndPoint(ref MessagePackWriter w, IPEndPoint endPoint)
    {
        w.Write(endPoint.Address.GetAddressBytes());
        w.Write(endPoint.Port);
    }

    // ---- decoding: every count and length is checked before anything is allocated for it ----

    /// <summary>
    /// Reads the scope of a datagram or push-pull message (both start <c>[ version, cluster, scope, ... ]</c>)
    /// without decoding the rest, so one transport can serve several scopes. False for anything else.
    /// </summary>
    public static bool TryPeekScope(ReadOnlyMemory<byte> message, out ReadOnlyMemory<byte> scope)
    {
        scope = default;
        if (message.IsEmpty) return false;
        try
        {
            var r = new MessagePackReader(message);
            if (r.ReadArrayHeader() < 3) return false;
            r.Skip(); // version: each scope's codec checks it
            r.Skip(); // cluster: likewise
            if (!r.TryReadStringSpan(out var span)) return false;
            scope = message.Slice((int)r.Consumed - span.Length, span.Length);
            return true;
        }
        catch (Exception ex) when (IsDecodeFailure(ex))
        {
            scope = default;
            return false;
        }
    }

    /// <summary>Decodes one datagram into <paramref name="into"/> (cleared first). Never throws for bad input.</summary>
    public GossipDecodeStatus TryDecodeDatagram(ReadOnlyMemory<byte> datagram, GossipDatagram into)
    {
        into.Reset();
        // A UDP payload is at most 65507 bytes; anything larger did not come off the wire.
        if (datagram.Length is 0 or > 65_507) return GossipDecodeStatus.Malformed;
        try
        {
            var r = new MessagePackReader(datagram);
            var status = ReadHeader(ref r, EnvelopeFields, out var fields, out var type, out var from);
            if (status != GossipDecodeStatus.Ok) return status;
            into.Type = type;
            into.From = from;
            into.Sequence = r.ReadUInt32();
            var used = EnvelopeFields;
            switch (type)
            {
                case GossipMessageType.Ping:
                    if (fields < EnvelopeFields + 1) return GossipDecodeStatus.Malformed;
                    into.Target = ReadName(ref r);
                    used += 1;
                    break;
                case GossipMessageType.PingReq:
                    if (fields < EnvelopeFields + 3) return GossipDecodeStatus.Malformed;
                    into.Target = ReadName(ref r);
                    into.TargetEndPoint = ReadEndPoint(ref r);
                    used += 3;
                    break;
                case GossipMessageType.Ack or GossipMessageType.Nack or GossipMessageType.Gossip:
                    break;
                default:
                    // PushPull travels only over the stream exchange; in a datagram it is as unknown as any other type.
                    return GossipDecodeStatus.UnknownType;
            }
            SkipValues(ref r, fields - used);
            while (!r.End)
            {
                if (into.Updates.Count + into.UnknownUpdates >= MaxUpdatesPerDatagram) return GossipDecodeStatus.Malformed;
                if (ReadUpdate(ref r, out var update)) into.Updates.Add(update);
                else into.UnknownUpdates++;
            }
            return GossipDecodeStatus.Ok;
        }
        catch (Exception ex) when (IsDecodeFailure(ex))
        {
            return GossipDecodeStatus.Malformed;
        }
    }

    /// <summary>Decodes a push-pull message of at most <paramref name="maxMembers"/> members. Never throws for bad input.</summary>
    public GossipDecodeStatus TryDecodePushPull(ReadOnlyMemory<byte> payload, int maxMembers, PushPullState into)
    {
        into.Reset();
        if (payload.IsEmpty) return GossipDecodeStatus.Malformed;
        try
        {
            var r = new MessagePackReader(payload);
            var status = ReadHeader(ref r, PushPullFields, out var fields, out var type, out var from);
            if (status != GossipDecodeStatus.Ok) return status;
            if (type != GossipMessageType.PushPull) return GossipDecodeStatus.UnknownType;
            into.From = from;
            into.Join = r.ReadBoolean();
            var count = r.ReadArrayHeader();
            if (count > maxMembers) return GossipDecodeStatus.Malformed;
            for (var i = 0; i < count; i++)
            {
                var n = r.ReadArrayHeader();
                if (n < RecordFields) return GossipDecodeStatus.Malformed;
                var node = ReadName(ref r);
                var incarnation = ReadIncarnation(ref r);
                var state = r.ReadByte();
                var meta = ReadMetadata(ref r);
                SkipValues(ref r, n - RecordFields);
                if (state is < (byte)MemberState.Alive or > (byte)MemberState.Left)
                {
                    into.UnknownEntries++;
                    continue;
                }
                into.Members.Add(new MemberRecord(node, incarnation, (MemberState)state, meta));
            }
            SkipValues(ref r, fields - PushPullFields);
            return r.End ? GossipDecodeStatus.Ok : GossipDecodeStatus.Malformed;
        }
        catch (Exception ex) when (IsDecodeFailure(ex))
        {
            return GossipDecodeStatus.Malformed;
        }
    }

    // ArgumentException: MessagePackReader slices a str/bin whose declared length runs past the end;
    // MeshFormat: our own checks (names, addresses, ranges).
    private static bool IsDecodeFailure(Exception ex) =>
        ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentException or GossipFormatException;

    /// <summary>The array header and the fields every message starts with; the version, cluster and scope are checked here.</summary>
    private GossipDecodeStatus ReadHeader(ref MessagePackReader r, int minFields, out int fields, out GossipMessageType type, out string from)
    {
        type = 0;
        from = "";
        fields = r.ReadArrayHeader();
        if (fields < minFields) return GossipDecodeStatus.Malformed;
        if (r.ReadInt32() != FormatVersion) return GossipDecodeStatus.UnsupportedVersion;
        if (!ReadSpan(ref r).SequenceEqual(_cluster)) return GossipDecodeStatus.ForeignCluster;
        if (!ReadSpan(ref r).SequenceEqual(_scope)) return GossipDecodeStatus.ForeignScope;
        type = (GossipMessageType)r.ReadByte();
        from = ReadName(ref r);
        return GossipDecodeStatus.Ok;
    }

    /// <summary>Reads one update; false (skipped) for an unknown kind.</summary>
    private static bool ReadUpdate(ref MessagePackReader r, out MemberUpdate update)
    {
        update = default;
        var n = r.ReadArrayHeader();
        if (n < UpdateFields) Fail("update has too few fields");
        var kind = (MemberUpdateKind)r.ReadByte();
        var node = ReadName(ref r);
        var incarnation = ReadIncarnation(ref r);
        switch (kind)
        {
            case MemberUpdateKind.Alive:
                if (n < UpdateFields + 1) Fail("alive update without metadata");
                update = MemberUpdate.Alive(node, incarnation, ReadMetadata(ref r));
                break;
            case MemberUpdateKind.Suspect or MemberUpdateKind.Dead:
                if (n < UpdateFields + 1) Fail("suspect/dead update without sender");
                update = new MemberUpdate(kind, node, incarnation, ReadName(ref r), null);
                break;
            default:
                SkipValues(ref r, n - UpdateFields);
                return false;
        }
        SkipValues(ref r, n - UpdateFields - 1);
        return true;
    }

    private static MemberMetadata ReadMetadata(ref MessagePackReader r)
    {
        var n = r.ReadArrayHeader();
        if (n < MetaFields) Fail("metadata has too few fields");
        var role = ReadAscii(ref r, 1, MaxRoleLength);
        var uplink = ReadAscii(ref r, 0, MaxUplinkLength);
        var endPoint = ReadEndPoint(ref r);
        var backlog = r.ReadInt64();
        var children = r.ReadInt32();
        var diskFree = r.ReadInt64();
        if (backlog < 0 || children < 0 || diskFree < 0) Fail("negative load");
        // A member of a version before parent choice sends no parent: read as none.
        var parent = n >= MetaFieldsWithParent ? ReadOptionalName(ref r) : "";
        SkipValues(ref r, n - Math.Min(n, MetaFieldsWithParent));
        return new MemberMetadata
        {
            Role = role,
            UplinkAddress = uplink,
            GossipEndPoint = endPoint,
            Load = new MemberLoad(backlog, children, diskFree),
            Parent = parent,
        };
    }

    private static IPEndPoint ReadEndPoint(ref MessagePackReader r)
    {
        var bytes = r.ReadBytes() ?? default;
        if (bytes.Length is not (4 or 16)) Fail("address is not 4 or 16 bytes");
        Span<byte> address = stackalloc byte[16];
        bytes.CopyTo(address);
        var port = r.ReadInt32();
        if (port is <= 0 or > 65535) Fail("port outside 1..65535");
        var ip = new IPAddress(address[..(int)bytes.Length]);
        if (ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        return new IPEndPoint(ip, port);
    }

    private static long ReadIncarnation(ref MessagePackReader r)
    {
        var value = r.ReadInt64();
        if (value is < 0 or > MaxIncarnation) Fail("incarnation out of range");
        return value;
    }

    private static ReadOnlySpan<byte> ReadSpan(ref MessagePackReader r)
    {
        // The reader runs over one contiguous buffer, so a string is always one span; nil is not a name.
        if (!r.TryReadStringSpan(out var span)) Fail("expected a string");
        return span;
    }

    private static string ReadName(ref MessagePackReader r)
    {
        var span = ReadSpan(ref r);
        if (span.Length is 0 or > MaxNameLength) Fail("name length outside 1..64");
        foreach (var b in span)
            if (!IsNameByte(b)) Fail("name has a character outside A-Z a-z 0-9 . _ -");
        return Encoding.ASCII.GetString(span);
    }

    private static string ReadOptionalName(ref MessagePackReader r)
    {
        var span = ReadSpan(ref r);
        if (span.Length == 0) return "";
        if (span.Length > MaxNameLength) Fail("name length outside 0..64");
        foreach (var b in span)
            if (!IsNameByte(b)) Fail("name has a character outside A-Z a-z 0-9 . _ -");
        return Encoding.ASCII.GetString(span);
    }

    private static string ReadAscii(ref MessagePackReader r, int min, int max)
    {
        var span = ReadSpan(ref r);
        if (span.Length < min || span.Length > max) Fail("string length out of range");
        foreach (var b in span)
            if (b is < 0x20 or > 0x7e) Fail("string is not printable ASCII");
        return Encoding.ASCII.GetString(span);
    }

    /// <summary>
    /// Skips <paramref name="count"/> values without recursion: MessagePackReader.Skip recurses into
    /// nested arrays, and a hostile stream of nested one-element arrays would overflow the stack.
    /// </summary>
    private static void SkipValues(ref MessagePackReader r, long count)
    {
        var pending = count;
        while (pending > 0)
        {
            pending--;
            switch (r.NextMessagePackType)
            {
                case MessagePackType.Array:
                    pending += r.ReadArrayHeader();
                    break;
                case MessagePackType.Map:
                    pending += 2L * r.ReadMapHeader();
                    break;
                default:
                    r.Skip();
                    break;
            }
        }
    }

    private static bool IsNameByte(byte b) => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'.' or (byte)'_' or (byte)'-';

    private static bool IsPrintableAscii(string s)
    {
        foreach (var c in s)
            if (c is < ' ' or > '~') return false;
        return true;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string message) => throw new GossipFormatException(message);
}

/// <summary>A gossip message broke the format or a limit (caught inside the codec and counted, never surfaced to callers).</summary>
public sealed class GossipFormatException : MeshException
{
    public GossipFormatException(string message) : base(message) { }
}
