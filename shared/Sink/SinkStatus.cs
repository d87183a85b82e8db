using System.Collections.Concurrent;

namespace EdgeStream.Sink;

/// <summary>How a sink partition stands toward the external cluster.</summary>
public enum SinkState
{
    /// <summary>Not started yet, or the node is stopping.</summary>
    Starting,
    /// <summary>The last request to the external cluster succeeded.</summary>
    Connected,
    /// <summary>The external cluster failed (down, unreachable, a retriable error); retrying with backoff.</summary>
    Retrying,
    /// <summary>Holding an origin's records until the records before them reach the external cluster.</summary>
    WaitingForGap,
    /// <summary>The external cluster refuses what this partition holds (e.g. a record over its size limit); retrying slowly.</summary>
    Error,
}

/// <summary>
/// The sink's counters since start-up and each partition's state and lag, for <c>/v1/status</c> and
/// <c>/metrics</c>. Written by the partition workers, read by scrapes.
/// </summary>
public sealed class SinkStatus(string bootstrap, string security = "PLAINTEXT")
{
    private readonly ConcurrentDictionary<(string Topic, int Partition), PartitionSinkStatus> _partitions = new();
    private long _recordsSent, _bytesSent, _requests, _errors, _duplicatesSkipped, _duplicatesFound, _gapsAccepted, _skippedRecords;

    public string Bootstrap { get; } = bootstrap;
    /// <summary>PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (<see cref="SinkOptions.SecurityProtocol"/>).</summary>
    public string Security { get; } = security;
    public long RecordsSent => Interlocked.Read(ref _recordsSent);
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long Errors => Interlocked.Read(ref _errors);
    public long DuplicatesSkipped => Interlocked.Read(ref _duplicatesSkipped);
    public long DuplicatesFound => Interlocked.Read(ref _duplicatesFound);

    /// <summary>The worst state of any partition (an idle sink with no partition is connected).</summary>
    public SinkState State
    {
        get
        {
            var worst = SinkState.Connected;
            foreach (var p in _partitions.Values)
                if (Rank(p.State) > Rank(worst)) worst = p.State;
            return worst;
        }
    }

    /// <summary>Records in the local log not yet at the external cluster, over every partition.</summary>
    public long LagRecords
    {
        get
        {
            long lag = 0;
            foreach (var p in _partitions.Values) lag += p.Lag;
            return lag;
        }
    }

    /// <summary>Lag per local topic, for the per-topic gauge.</summary>
    public IEnumerable<(string Topic, long Lag)> LagByTopic()
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var ((topic, _), p) in _partitions) sums[topic] = sums.GetValueOrDefault(topic) + p.Lag;
        foreach (var (topic, lag) in sums) yield return (topic, lag);
    }

    internal PartitionSinkStatus Partition(string topic, int partition, string target) =>
        _partitions.GetOrAdd((topic, partition), _ => new PartitionSinkStatus(target));

    internal void Remove(string topic, int partition) => _partitions.TryRemove((topic, partition), out _);

    internal void Sent(long records, long bytes)
    {
        Interlocked.Add(ref _recordsSent, records);
        Interlocked.Add(ref _bytesSent, bytes);
        Interlocked.Increment(ref _requests);
    }

    internal void Error() => Interlocked.Increment(ref _errors);
    internal void DuplicateSkipped(long records) => Interlocked.Add(ref _duplicatesSkipped, records);
    internal void DuplicateFound(long records) => Interlocked.Add(ref _duplicatesFound, records);
    internal void GapAccepted() => Interlocked.Increment(ref _gapsAccepted);
    internal void Skipped(long records) => Interlocked.Add(ref _skippedRecords, records);

    public SinkStatusSnapshot Snapshot()
    {
        var partitions = new List<SinkPartitionSnapshot>(_partitions.Count);
        foreach (var ((topic, partition), p) in _partitions)
            partitions.Add(new SinkPartitionSnapshot
            {
                Topic = topic, Partition = partition, Target = p.Target, State = StateText(p.State), Cursor = p.Cursor, Lag = p.Lag, LastError = p.LastError,
            });
        partitions.Sort(static (a, b) => a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic));
        return new SinkStatusSnapshot
        {
            State = StateText(State),
            Bootstrap = Bootstrap,
            Security = Security,
            LagRecords = LagRecords,
            RecordsSent = RecordsSent,
            BytesSent = BytesSent,
            Requests = Interlocked.Read(ref _requests),
            Errors = Errors,
            DuplicatesSkipped = DuplicatesSkipped,
            DuplicatesFound = DuplicatesFound,
            GapsAccepted = Interlocked.Read(ref _gapsAccepted),
            SkippedRecords = Interlocked.Read(ref _skippedRecords),
            Partitions = partitions,
        };
    }

    public static string StateText(SinkState state) => state switch
    {
        SinkState.Starting => "starting",
        SinkState.Connected => "connected",
        SinkState.Retrying => "retrying",
        SinkState.WaitingForGap => "waiting-for-gap",
        _ => "error",
    };

    private static int Rank(SinkState state) => state switch
    {
        SinkState.Connected => 0,
        SinkState.Starting => 1,
        SinkState.WaitingForGap => 2,
        SinkState.Retrying => 3,
        _ => 4,
    };
}

/// <summary>One local partition's sink: written by its worker only.</summary>
internal sealed class PartitionSinkStatus(string target)
{
    public string Target { get; } = target;
    public volatile SinkState State = SinkState.Starting;
    public long Cursor;
    public long Lag;
    public volatile string? LastError;
}

/// <summary>The <c>sink</c> part of <c>GET /v1/status</c>.</summary>
public sealed class SinkStatusSnapshot
{
    /// <summary>connected, retrying, waiting-for-gap, error or starting: the worst of any partition.</summary>
    public required string State { get; init; }
    public required string Bootstrap { get; init; }
    /// <summary>How the sink reaches the cluster, in Kafka's words: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.</summary>
    public string Security { get; init; } = "PLAINTEXT";
    /// <summary>Records in this node's log not yet at the external cluster.</summary>
    public long LagRecords { get; init; }
    public long RecordsSent { get; init; }
    public long BytesSent { get; init; }
    public long Requests { get; init; }
    public long Errors { get; init; }
    /// <summary>Records not sent because the external cluster already had them (a restart, another cloud node).</summary>
    public long DuplicatesSkipped { get; init; }
    /// <summary>Records the external cluster holds twice (two cloud nodes wrote one origin at once): should stay 0.</summary>
    public long DuplicatesFound { get; init; }
    /// <summary>Gaps in an origin that did not fill within --sink-gap-wait (written out of order after it).</summary>
    public long GapsAccepted { get; init; }
    /// <summary>Records deleted locally (retention, disk budget) before they were forwarded.</summary>
    public long SkippedRecords { get; init; }
    public IReadOnlyList<SinkPartitionSnapshot> Partitions { get; init; } = [];
}

public sealed class SinkPartitionSnapshot
{
    public required string Topic { get; init; }
    public int Partition { get; init; }
    public required string Target { get; init; }
    public required string State { get; init; }
    /// <summary>The next local offset to forward.</summary>
    public long Cursor { get; init; }
    public long Lag { get; init; }
    public string? LastError { get; init; }
}
