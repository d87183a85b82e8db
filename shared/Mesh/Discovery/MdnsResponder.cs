using System.Net;
using Makaretu.Dns;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mesh.Discovery;

/// <summary>Where the responder is with its names.</summary>
public enum MdnsResponderState
{
    Stopped,
    /// <summary>Asking whether the names are free (RFC 6762 §8.1); nothing is answered yet.</summary>
    Probing,
    /// <summary>Names claimed; the two announcements are going out (§8.3) and queries are answered.</summary>
    Announcing,
    /// <summary>Names claimed and announced; queries are answered.</summary>
    Announced,
}

/// <summary>
/// The advertising half of mDNS / DNS-SD for one service instance, without sockets or timers: packets in
/// (<see cref="Receive"/>), packets out (into the caller's list), time from a <see cref="TimeProvider"/> and work
/// due at <see cref="NextDue"/> done by <see cref="Tick"/>. Not thread-safe: one loop drives it.
/// <para>
/// Records (RFC 6763 §4–§6): PTR <c>service → instance</c>, SRV <c>instance → host:port</c>, TXT on the instance,
/// A/AAAA <c>host → addresses of the link</c>; the PTR is shared, the others unique (cache-flush bit).
/// </para>
/// </summary>
public sealed class MdnsResponder
{
    /// <summary>RFC 6762 §8.1: three probes, 250 ms apart.</summary>
    public const int ProbeCount = 3;
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);
    /// <summary>RFC 6762 §8.3: at least two announcements, one second apart.</summary>
    public const int AnnounceCount = 2;
    public static readonly TimeSpan AnnounceInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan TiebreakDefer = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ConflictWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ConflictPause = TimeSpan.FromSeconds(5);
    private const int ConflictStormCount = 15;
    // §6.7: legacy unicast answers carry TTLs of at most 10 s.
    private static readonly TimeSpan LegacyTtl = TimeSpan.FromSeconds(10);
    // §6: a record is multicast on a link at most once a second, or every 250 ms in answer to probes.
    private static readonly TimeSpan MulticastSpacing = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeAnswerSpacing = TimeSpan.FromMilliseconds(250);

    private readonly MdnsContext _context;
    private readonly List<string> _txt;
    private readonly Dictionary<MdnsLink, Dictionary<string, DateTimeOffset>> _lastMulticast = [];
    private readonly List<PendingResponse> _pending = [];
    private readonly Queue<DateTimeOffset> _recentConflicts = new();
    private readonly Dictionary<(MdnsLink, Use), List<ResourceRecord>> _records = [];
    private IReadOnlyList<MdnsLink> _links = [];
    private int _instanceAttempt = 1;
    private int _hostAttempt = 1;
    private int _probesSent;
    private int _announcementsSent;
    private DateTimeOffset _nextStep = DateTimeOffset.MaxValue;

    public MdnsResponder(MdnsOptions options, TimeProvider? time = null, Random? random = null, MdnsCounters? counters = null, ILogger? logger = null)
    {
        _context = new MdnsContext(options, time, random, counters, logger);
        _txt = MdnsTxt.Build(options);
        Instance = options.EffectiveInstanceName;
        Host = options.EffectiveHostName;
        Rename();
    }

    private void Rename()
    {
        InstanceFqdn = MdnsNames.InstanceName(Instance, _context.Service);
        HostFqdn = MdnsNames.HostName(Host);
        _records.Clear();
    }

    /// <summary>The instance label in force (after any renaming).</summary>
    public string Instance { get; private set; }

    /// <summary>The host label in force (after any renaming), without <c>.local</c>.</summary>
    public string Host { get; private set; }

    public DomainName InstanceFqdn { get; private set; } = null!;
    public DomainName HostFqdn { get; private set; } = null!;
    public MdnsResponderState State { get; private set; }
    public MdnsCounters Counters => _context.Counters;

    /// <summary>Raised when probing found the names free (again after every rename), with the instance and host labels.</summary>
    public event Action<string, string>? Claimed;

    /// <summary>When <see cref="Tick"/> has work next; <see cref="DateTimeOffset.MaxValue"/> when idle.</summary>
    public DateTimeOffset NextDue
    {
        get
        {
            var due = State is MdnsResponderState.Probing or MdnsResponderState.Announcing ? _nextStep : DateTimeOffset.MaxValue;
            foreach (var p in _pending)
                if (p.Due < due) due = p.Due;
            return due;
        }
    }

    /// <summary>Starts (or, with other links, restarts) probing: after a random 0–250 ms wait (§8.1) so hosts powered on together spread out.</summary>
    public void Start(IReadOnlyList<MdnsLink> links)
    {
        _links = links;
        _pending.Clear();
        _lastMulticast.Clear();
        BeginProbing(_context.Time.GetUtcNow() + TimeSpan.FromMilliseconds(_context.Random.Next(0, 250)));
    }

    /// <summary>
    /// New interfaces or addresses. RFC 6762 §8.3 asks for probing and announcing again on any change of
    /// connectivity; with nothing changed this does nothing.
    /// </summary>
    public void SetLinks(IReadOnlyList<MdnsLink> links)
    {
        if (State == MdnsResponderState.Stopped || MdnsLink.SameSet(_links, links)) return;
        Start(links);
    }

    /// <summary>Sends goodbyes (every record with TTL 0, §10.1) if the names were claimed, and stops.</summary>
    public void Stop(List<MdnsSend> output)
    {
        if (State is MdnsResponderState.Announcing or MdnsResponderState.Announced)
        {
            foreach (var link in _links)
            {
                var message = NewResponse();
                message.Answers.AddRange(Announced(link, Use.Goodbye));
                output.Add(new MdnsSend(message, link));
            }
        }
        State = MdnsResponderState.Stopped;
        _pending.Clear();
        _nextStep = DateTimeOffset.MaxValue;
    }

    /// <summary>Does the work due now: the next probe or announcement, delayed responses.</summary>
    public void Tick(List<MdnsSend> output)
    {
        var now = _context.Time.GetUtcNow();
        if (State == MdnsResponderState.Probing && now >= _nextStep)
        {
            if (_probesSent < ProbeCount)
            {
                // §8.1: the first probe asks for a unicast answer (QU), so a defender need not multicast.
                foreach (var link in _links) output.Add(new MdnsSend(Probe(link, unicastResponse: _probesSent == 0), link));
                _probesSent++;
                _nextStep = now + ProbeInterval;
            }
            else
            {
                // 250 ms after the third probe with no conflict: the names are ours.
                State = MdnsResponderState.Announcing;
                _announcementsSent = 0;
                _nextStep = now;
                MdnsLog.Claimed(_context.Logger, Instance, Host);
                Claimed?.Invoke(Instance, Host);
            }
        }
        if (State == MdnsResponderState.Announcing && now >= _nextStep)
        {
            foreach (var link in _links)
            {
                var message = NewResponse();
                message.Answers.AddRange(Announced(link, Use.Response));
                NoteMulticast(link, message.Answers, now);
                output.Add(new MdnsSend(message, link));
            }
            _announcementsSent++;
            if (_announcementsSent >= AnnounceCount)
            {
                State = MdnsResponderState.Announced;
                _nextStep = DateTimeOffset.MaxValue;
            }
            else
            {
                _nextStep = now + AnnounceInterval;
            }
        }
        for (var i = 0; i < _pending.Count; i++)
        {
            if (_pending[i].Due > now) continue;
            Flush(_pending[i], now, output);
            _pending.RemoveAt(i--);
        }
    }

    /// <summary>Handles one received message (already decoded and checked) from <paramref name="source"/> on <paramref name="link"/>.</summary>
    public void Receive(Message message, MdnsLink link, IPEndPoint source, List<MdnsSend> output)
    {
        if (State == MdnsResponderState.Stopped) return;
        if (message.IsResponse)
        {
            CheckConflicts(message, link);
            SuppressDuplicates(message, link);
            return;
        }
        if (State == MdnsResponderState.Probing)
        {
            CheckSimultaneousProbe(message, link);
            return;
        }
        Answer(message, link, source, output);
    }

    // ---- probing ----

    private void BeginProbing(DateTimeOffset at)
    {
        _records.Clear();
        State = MdnsResponderState.Probing;
        _probesSent = 0;
        _nextStep = at;
    }

    private Message Probe(MdnsLink link, bool unicastResponse)
    {
        // §8.1: a query of type ANY for each name, with the records we intend to claim in the Authority
        // Section, so that a host probing at the same time can apply the tiebreak of §8.2.
        var message = new Message { Id = 0 };
        message.Questions.Add(new Question { Name = InstanceFqdn, Type = DnsType.ANY, Class = MdnsNames.In(unicastResponse) });
        message.Questions.Add(new Question { Name = HostFqdn, Type = DnsType.ANY, Class = MdnsNames.In(unicastResponse) });
        foreach (var r in Records(link, Use.Probe))
            if (r.Type != DnsType.PTR) message.AuthorityRecords.Add(r);
        return message;
    }

    private void CheckConflicts(Message message, MdnsLink link)
    {
        foreach (var section in (List<ResourceRecord>[])[message.Answers, message.AdditionalRecords])
        {
            foreach (var r in section)
            {
                if (r.TTL == TimeSpan.Zero) continue; // a goodbye claims nothing
                var isInstance = r.Name == InstanceFqdn && r.Type is DnsType.SRV or DnsType.TXT;
                var isHost = r.Name == HostFqdn && r.Type is DnsType.A or DnsType.AAAA;
                if (!isInstance && !isHost) continue;
                // §8.2/§9: the same record from another host (or our own multicast looped back) is no conflict.
                if (IsOurs(r)) continue;
                Conflict(isInstance, link);
                return;
            }
        }
    }

    private bool IsOurs(ResourceRecord record)
    {
        foreach (var link in _links)
            foreach (var mine in Records(link, Use.Probe))
                if (MdnsRecords.SameRecord(mine, record)) return true;
        return false;
    }

    private void Conflict(bool instance, MdnsLink link)
    {
        _context.Counters.Conflict();
        var now = _context.Time.GetUtcNow();
        if (State != MdnsResponderState.Probing)
        {
            // §9: a claimed record contradicted goes back to probing under the same name; if the other host
            // keeps it, the probes meet its answers and we rename then.
            MdnsLog.ConflictAfterClaim(_context.Logger, instance ? InstanceFqdn.ToString() : HostFqdn.ToString(), link.ToString());
            _pending.Clear();
            BeginProbing(now);
            return;
        }
        if (instance)
        {
            var old = Instance;
            Instance = MdnsNames.RenameInstance(_context.Options.EffectiveInstanceName, ++_instanceAttempt);
            Rename();
            MdnsLog.Renamed(_context.Logger, old, link.ToString(), Instance);
        }
        else
        {
            var old = Host;
            Host = MdnsNames.RenameHost(_context.Options.EffectiveHostName, ++_hostAttempt);
            Rename();
            MdnsLog.Renamed(_context.Logger, old + ".local", link.ToString(), Host + ".local");
        }
        _recentConflicts.Enqueue(now);
        while (_recentConflicts.Count > 0 && now - _recentConflicts.Peek() > ConflictWindow) _recentConflicts.Dequeue();
        if (_recentConflicts.Count >= ConflictStormCount)
        {
            MdnsLog.ConflictStorm(_context.Logger, _recentConflicts.Count);
            BeginProbing(now + ConflictPause);
        }
        else
        {
            BeginProbing(now);
        }
    }

    private void CheckSimultaneousProbe(Message query, MdnsLink link)
    {
        if (query.AuthorityRecords.Count == 0) return;
        var mine = Records(link, Use.Probe);
        foreach (var name in (DomainName[])[InstanceFqdn, HostFqdn])
        {
            var theirs = query.AuthorityRecords.Where(r => r.Name == name).ToList();
            if (theirs.Count == 0) continue;
            var ours = mine.Where(r => r.Name == name && r.Type != DnsType.PTR);
            // §8.2: the lexicographically later set wins; identical sets (our own probe looped back) are no conflict.
            if (MdnsRecords.CompareForTiebreak(ours, theirs) < 0)
            {
                MdnsLog.TiebreakLost(_context.Logger, name.ToString(), link.ToString());
                BeginProbing(_context.Time.GetUtcNow() + TiebreakDefer);
                return;
            }
        }
    }

    // ---- answering ----

    private void Answer(Message query, MdnsLink link, IPEndPoint source, List<MdnsSend> output)
    {
        var records = Records(link, Use.Response);
        var answers = new List<ResourceRecord>();
        var anyMulticastQuestion = false;
        var anyShared = false;
        var probeQuery = query.AuthorityRecords.Count > 0;
        foreach (var q in query.Questions)
        {
            var cls = MdnsNames.BaseClass(q.Class);
            if (cls != DnsClass.IN && cls != DnsClass.ANY) continue;
            var matched = false;
            foreach (var r in records)
            {
                if (r.Name != q.Name || (q.Type != DnsType.ANY && q.Type != r.Type)) continue;
                matched = true;
                if (!answers.Exists(a => ReferenceEquals(a, r))) answers.Add(r);
                if (r.Type == DnsType.PTR) anyShared = true;
            }
            if (matched && !MdnsNames.HasTopBit(q.Class)) anyMulticastQuestion = true;
        }
        if (answers.Count == 0) return;

        // §7.1 known-answer suppression: leave out what the querier listed with at least half our TTL left.
        foreach (var known in query.Answers)
        {
            for (var i = 0; i < answers.Count; i++)
            {
                if (!MdnsRecords.Covers(known, answers[i])) continue;
                answers.RemoveAt(i--);
                _context.Counters.KnownAnswerSuppressed();
            }
        }
        if (answers.Count == 0) return;
        _context.Counters.Answered();

        if (source.Port != MdnsNames.Port)
        {
            // §6.7 legacy unicast: a plain DNS resolver asking from an ephemeral port gets a conventional
            // unicast answer: its id and question echoed, TTLs at most 10 s, no cache-flush bits.
            var legacy = new Message { Id = query.Id, QR = true, AA = true };
            legacy.Questions.AddRange(query.Questions.Select(q => new Question { Name = q.Name, Type = q.Type, Class = MdnsNames.BaseClass(q.Class) }));
            foreach (var r in answers) legacy.Answers.Add(Rebuild(r, link, Use.Legacy));
            output.Add(new MdnsSend(legacy, link, source));
            return;
        }

        var now = _context.Time.GetUtcNow();
        // §5.4: QU questions get a unicast answer, unless a record was not multicast on this link within the
        // last quarter of its TTL: then everyone's caches gain from a multicast one.
        if (!anyMulticastQuestion && answers.TrueForAll(r => MulticastSince(link, r, now - r.TTL / 4)))
        {
            var unicast = NewResponse();
            unicast.Answers.AddRange(answers);
            AddAdditional(unicast, records);
            output.Add(new MdnsSend(unicast, link, source));
            return;
        }

        // §6: answers made only of unique records go out at once; shared ones (PTR) wait 20–120 ms so that
        // responders do not collide; a truncated query (TC, §7.2) waits 400–500 ms for its other known answers.
        var delay = query.TC ? TimeSpan.FromMilliseconds(_context.Random.Next(400, 501))
            : anyShared && !probeQuery ? TimeSpan.FromMilliseconds(_context.Random.Next(20, 121))
            : TimeSpan.Zero;
        var pending = _pending.Find(p => p.Link == link);
        if (pending is null)
        {
            pending = new PendingResponse(link, now + delay, probeQuery);
            _pending.Add(pending);
        }
        else if (now + delay < pending.Due)
        {
            pending.Due = now + delay;
        }
        pending.ForProbe |= probeQuery;
        foreach (var r in answers)
            if (!pending.Answers.Exists(p => MdnsRecords.SameRecord(p, r))) pending.Answers.Add(r);
        if (pending.Due <= now)
        {
            Flush(pending, now, output);
            _pending.Remove(pending);
        }
    }

    private void Flush(PendingResponse pending, DateTimeOffset now, List<MdnsSend> output)
    {
        var spacing = pending.ForProbe ? ProbeAnswerSpacing : MulticastSpacing;
        var answers = pending.Answers.FindAll(r => !MulticastSince(pending.Link, r, now - spacing));
        if (answers.Count == 0) return;
        var message = NewResponse();
        message.Answers.AddRange(answers);
        AddAdditional(message, Records(pending.Link, Use.Response));
        NoteMulticast(pending.Link, message.Answers, now);
        NoteMulticast(pending.Link, message.AdditionalRecords, now);
        output.Add(new MdnsSend(message, pending.Link));
    }

    private void SuppressDuplicates(Message response, MdnsLink link)
    {
        // §7.4: another responder just multicast a record we were about to send, with at least half our TTL:
        // ours would add nothing.
        foreach (var pending in _pending)
        {
            if (pending.Link != link) continue;
            foreach (var r in response.Answers)
            {
                var removed = pending.Answers.RemoveAll(mine => MdnsRecords.Covers(r, mine));
                for (var i = 0; i < removed; i++) _context.Counters.DuplicateAnswerSuppressed();
            }
        }
        _pending.RemoveAll(p => p.Answers.Count == 0);
    }

    /// <summary>RFC 6763 §12: a PTR answer brings SRV, TXT and the addresses; an SRV answer the addresses; RFC 6762 §6.2: A brings AAAA and back.</summary>
    private static void AddAdditional(Message message, List<ResourceRecord> records)
    {
        var types = new HashSet<DnsType>();
        foreach (var a in message.Answers)
        {
            switch (a.Type)
            {
                case DnsType.PTR when a.Name != MdnsNames.ServicesEnumeration:
                    types.UnionWith([DnsType.SRV, DnsType.TXT, DnsType.A, DnsType.AAAA]);
                    break;
                case DnsType.SRV or DnsType.A or DnsType.AAAA:
                    types.UnionWith([DnsType.A, DnsType.AAAA]);
                    break;
            }
        }
        foreach (var r in records)
        {
            if (r.Type == DnsType.PTR || !types.Contains(r.Type)) continue;
            if (!message.Answers.Exists(a => ReferenceEquals(a, r))) message.AdditionalRecords.Add(r);
        }
    }

    private bool MulticastSince(MdnsLink link, ResourceRecord record, DateTimeOffset since) =>
        _lastMulticast.TryGetValue(link, out var times) && times.TryGetValue(MdnsRecords.Key(record), out var at) && at > since;

    private void NoteMulticast(MdnsLink link, List<ResourceRecord> records, DateTimeOffset now)
    {
        if (!_lastMulticast.TryGetValue(link, out var times)) _lastMulticast[link] = times = [];
        foreach (var r in records) times[MdnsRecords.Key(r)] = now;
    }

    private static Message NewResponse() => new() { Id = 0, QR = true, AA = true };

    // ---- our records ----

    private enum Use
    {
        /// <summary>Multicast or QU responses: unique records carry the cache-flush bit (§10.2).</summary>
        Response,
        /// <summary>Authority Section of probes and conflict checks: no cache-flush bit.</summary>
        Probe,
        /// <summary>Goodbye: TTL 0 (§10.1).</summary>
        Goodbye,
        /// <summary>Legacy unicast: TTL at most 10 s, no cache-flush bit (§6.7).</summary>
        Legacy,
    }

    private List<ResourceRecord> Records(MdnsLink link, Use use)
    {
        // Built once per link, use and pair of names: every received packet looks at them.
        if (_records.TryGetValue((link, use), out var cached)) return cached;
        var built = BuildRecords(link, use);
        _records[(link, use)] = built;
        return built;
    }

    private List<ResourceRecord> BuildRecords(MdnsLink link, Use use)
    {
        var instance = InstanceFqdn;
        var host = HostFqdn;
        var flush = use is Use.Response or Use.Goodbye;
        var hostTtl = Ttl(_context.Options.HostRecordTtl, use);
        var serviceTtl = Ttl(_context.Options.ServiceRecordTtl, use);
        var records = new List<ResourceRecord>
        {
            new PTRRecord { Name = _context.Service, DomainName = instance, TTL = serviceTtl, Class = DnsClass.IN },
            new SRVRecord { Name = instance, Target = host, Port = (ushort)_context.Options.Port, Priority = 0, Weight = 0, TTL = hostTtl, Class = MdnsNames.In(flush) },
            new TXTRecord { Name = instance, Strings = [.. _txt], TTL = serviceTtl, Class = MdnsNames.In(flush) },
        };
        foreach (var address in link.Addresses)
            records.Add(WithTtl(AddressRecord.Create(host, address), hostTtl, flush));
        if (use is Use.Response or Use.Legacy)
        {
            // RFC 6763 §9: service type enumeration, answered only when asked, never announced.
            records.Add(new PTRRecord { Name = MdnsNames.ServicesEnumeration, DomainName = _context.Service, TTL = serviceTtl, Class = DnsClass.IN });
        }
        return records;
    }

    /// <summary>What announcements and goodbyes carry: everything but the service type enumeration.</summary>
    private List<ResourceRecord> Announced(MdnsLink link, Use use) => Records(link, use).FindAll(r => r.Name != MdnsNames.ServicesEnumeration);

    private ResourceRecord Rebuild(ResourceRecord record, MdnsLink link, Use use)
    {
        foreach (var r in Records(link, use))
            if (MdnsRecords.SameRecord(r, record)) return r;
        return record;
    }

    private static ResourceRecord WithTtl(ResourceRecord record, TimeSpan ttl, bool flush)
    {
        record.TTL = ttl;
        record.Class = MdnsNames.In(flush);
        return record;
    }

    private static TimeSpan Ttl(TimeSpan configured, Use use) => use switch
    {
        Use.Goodbye => TimeSpan.Zero,
        Use.Legacy => configured < LegacyTtl ? configured : LegacyTtl,
        _ => configured,
    };

    private sealed class PendingResponse(MdnsLink link, DateTimeOffset due, bool forProbe)
    {
        public MdnsLink Link { get; } = link;
        public DateTimeOffset Due { get; set; } = due;
        public bool ForProbe { get; set; } = forProbe;
        public List<ResourceRecord> Answers { get; } = [];
    }
}
