namespace EdgeStream.Mesh.Discovery;

/// <summary>What the discovery did and dropped, since start. Read from any thread.</summary>
public sealed class MdnsCounters
{
    private long _packetsReceived, _packetsSent, _sendErrors, _malformed, _undecodable, _foreignInterface, _queueFull;
    private long _queriesAnswered, _knownAnswersSuppressed, _duplicateAnswersSuppressed, _conflicts;
    private long _peersFound, _peersLost, _cacheFull, _goodbyesReceived, _recordsExpired;

    /// <summary>Packets read from the sockets on an interface we run on.</summary>
    public long PacketsReceived => Interlocked.Read(ref _packetsReceived);
    public long PacketsSent => Interlocked.Read(ref _packetsSent);
    public long SendErrors => Interlocked.Read(ref _sendErrors);
    /// <summary>Packets our structural checks refused (bad counts, lengths past the end, pointer loops…); ignored.</summary>
    public long MalformedDropped => Interlocked.Read(ref _malformed);
    /// <summary>Packets that passed our checks but the DNS decoder refused (e.g. non-ASCII TXT); ignored.</summary>
    public long UndecodableDropped => Interlocked.Read(ref _undecodable);
    /// <summary>Packets that arrived on an interface we do not run on (Linux delivers every joined group to every socket on the port).</summary>
    public long ForeignInterfaceDropped => Interlocked.Read(ref _foreignInterface);
    /// <summary>Packets dropped because the processing loop was behind (a flood).</summary>
    public long QueueFullDropped => Interlocked.Read(ref _queueFull);
    /// <summary>Queries we sent an answer to.</summary>
    public long QueriesAnswered => Interlocked.Read(ref _queriesAnswered);
    /// <summary>Answers left out because the query listed them as known (RFC 6762 §7.1).</summary>
    public long KnownAnswersSuppressed => Interlocked.Read(ref _knownAnswersSuppressed);
    /// <summary>Answers left out because another responder sent them first (RFC 6762 §7.4).</summary>
    public long DuplicateAnswersSuppressed => Interlocked.Read(ref _duplicateAnswersSuppressed);
    /// <summary>Name conflicts that made us rename or probe again.</summary>
    public long Conflicts => Interlocked.Read(ref _conflicts);
    public long PeersFound => Interlocked.Read(ref _peersFound);
    public long PeersLost => Interlocked.Read(ref _peersLost);
    /// <summary>Records not cached because the cache, or one name's share of it, was full.</summary>
    public long CacheFullDropped => Interlocked.Read(ref _cacheFull);
    /// <summary>Records received with TTL 0.</summary>
    public long GoodbyesReceived => Interlocked.Read(ref _goodbyesReceived);
    /// <summary>Cached records removed at the end of their TTL.</summary>
    public long RecordsExpired => Interlocked.Read(ref _recordsExpired);

    internal void Received() => Interlocked.Increment(ref _packetsReceived);
    internal void Sent() => Interlocked.Increment(ref _packetsSent);
    internal void SendError() => Interlocked.Increment(ref _sendErrors);
    internal void Malformed() => Interlocked.Increment(ref _malformed);
    internal void Undecodable() => Interlocked.Increment(ref _undecodable);
    internal void ForeignInterface() => Interlocked.Increment(ref _foreignInterface);
    internal void QueueFull() => Interlocked.Increment(ref _queueFull);
    internal void Answered() => Interlocked.Increment(ref _queriesAnswered);
    internal void KnownAnswerSuppressed() => Interlocked.Increment(ref _knownAnswersSuppressed);
    internal void DuplicateAnswerSuppressed() => Interlocked.Increment(ref _duplicateAnswersSuppressed);
    internal void Conflict() => Interlocked.Increment(ref _conflicts);
    internal void PeerFound() => Interlocked.Increment(ref _peersFound);
    internal void PeerLost() => Interlocked.Increment(ref _peersLost);
    internal void CacheFull() => Interlocked.Increment(ref _cacheFull);
    internal void GoodbyeReceived() => Interlocked.Increment(ref _goodbyesReceived);
    internal void RecordExpired() => Interlocked.Increment(ref _recordsExpired);

    /// <summary>Counts a packet the decoder did not return, by reason.</summary>
    internal void Dropped(MdnsPacketError error)
    {
        if (error == MdnsPacketError.Undecodable) Undecodable();
        else Malformed();
    }
}
