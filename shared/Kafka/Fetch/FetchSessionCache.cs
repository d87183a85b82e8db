using System.Security.Cryptography;

namespace EdgeStream.Kafka.Fetch;

/// <summary>
/// The broker's incremental fetch sessions, bounded (Kafka's <c>max.incremental.fetch.session.cache.slots</c>,
/// default 1000): when full, a new session evicts the least recently used one, whose client then gets
/// FETCH_SESSION_ID_NOT_FOUND on its next incremental fetch and starts a new session with a full one.
/// Ids are random and non-zero, as in Kafka, so a stale id from before a restart is not mistaken for a
/// live session.
/// </summary>
internal sealed class FetchSessionCache
{
    private readonly object _gate = new();
    private readonly Dictionary<int, FetchSession> _sessions = [];
    private readonly LinkedList<FetchSession> _recency = []; // least recently used first
    private long _created;
    private long _evicted;
    private long _incremental;

    public FetchSessionCache(int maxSessions) => MaxSessions = maxSessions;

    public int MaxSessions { get; }

    /// <summary>A new session, or null when sessions are off (no slots).</summary>
    public FetchSession? Create()
    {
        if (MaxSessions <= 0) return null;
        lock (_gate)
        {
            while (_sessions.Count >= MaxSessions && _recency.First is { } oldest)
            {
                Remove(oldest.Value);
                _evicted++;
            }
            int id;
            do id = RandomNumberGenerator.GetInt32(1, int.MaxValue);
            while (_sessions.ContainsKey(id));
            var session = new FetchSession(id);
            session.Node = _recency.AddLast(session);
            _sessions[id] = session;
            _created++;
            return session;
        }
    }

    /// <summary>The session with <paramref name="id"/> for an incremental fetch, now the most recently used; null when unknown or evicted.</summary>
    public FetchSession? Get(int id)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(id, out var session)) return null;
            _incremental++;
            _recency.Remove(session.Node!);
            _recency.AddLast(session.Node!);
            return session;
        }
    }

    public void Close(int id)
    {
        lock (_gate)
        {
            if (_sessions.TryGetValue(id, out var session)) Remove(session);
        }
    }

    private void Remove(FetchSession session)
    {
        _sessions.Remove(session.Id);
        _recency.Remove(session.Node!);
    }

    public FetchSessionStats Stats()
    {
        lock (_gate) return new FetchSessionStats(_sessions.Count, MaxSessions, _created, _evicted, _incremental);
    }
}

/// <summary>Open sessions, the cache's size; sessions created and evicted and incremental fetches served since start-up.</summary>
public readonly record struct FetchSessionStats(int Open, int Max, long Created, long Evicted, long IncrementalFetches);
