using System.Text;
using System.Threading.Channels;
using EdgeStream.Cdc.Records;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;

namespace EdgeStream.Cdc.Capture;

/// <summary>
/// Turns pgoutput messages into records in commit order. A transaction sent whole (Begin ..
/// Commit) is written as it arrives, each change at (commit LSN, index); one PostgreSQL streams
/// before committing (protocol v2) is spooled to disk and written at its Stream Commit. Watermark
/// messages bracket snapshot chunks; heartbeat messages let an idle slot advance.
/// </summary>
internal sealed class CdcCapture : IDisposable
{
    public const string WatermarkPrefix = "edgestream.wm";
    public const string HeartbeatPrefix = "edgestream.hb";

    private readonly CdcSourceOptions _options;
    private readonly CdcCatalog _catalog;
    private readonly ChannelWriter<CdcItem> _out;
    private readonly string _spoolDirectory;
    private readonly Func<long> _now;
    private readonly Dictionary<uint, CdcSpool> _spools = [];
    private CdcSpool? _streaming;

    // The transaction being written: its commit LSN, id and commit time, the next change's index,
    // and the last record held back so the end-of-transaction header can go on it.
    private ulong _txLsn;
    private uint _txId;
    private long _txMillis;
    private int _seq;
    private CdcItem? _held;

    // The images of the change being encoded, reused: a change is encoded before the next is read.
    private readonly CdcRow _oldImage = new(0);
    private readonly CdcRow _newImage = new(0);

    // The last transactions delivered (their xids, a ring): a snapshot chunk checks at its high
    // watermark that none of the transactions its SELECT could not see came before its low one.
    private const int DeliveredRing = 8192;
    private readonly uint[] _delivered = new uint[DeliveredRing];
    private long _deliveredCount;

    public CdcCapture(CdcSourceOptions options, CdcCatalog catalog, ChannelWriter<CdcItem> output, string spoolDirectory, Func<long> now)
    {
        _options = options;
        _catalog = catalog;
        _out = output;
        _spoolDirectory = spoolDirectory;
        _now = now;
    }

    /// <summary>The snapshot chunk whose watermarks are awaited, set by the snapshotter before its low watermark.</summary>
    public volatile SnapshotChunk? Chunk;

    /// <summary>The LSN of the last message received, for status.</summary>
    public ulong LastReceivedLsn { get; private set; }

    public async ValueTask HandleAsync(PgOutputReplicationMessage message, CancellationToken ct)
    {
        LastReceivedLsn = (ulong)message.WalStart;
        switch (message)
        {
            case BeginMessage begin:
                StartTransaction((ulong)begin.TransactionFinalLsn, begin.TransactionXid, begin.TransactionCommitTimestamp);
                break;
            case CommitMessage commit:
                await EndTransactionAsync((ulong)commit.TransactionEndLsn, ct).ConfigureAwait(false);
                break;
            case RelationMessage relation:
                await _catalog.OnRelationAsync(relation, ct).ConfigureAwait(false);
                break;
            case InsertMessage insert:
            {
                var columns = _catalog.Columns(insert.Relation);
                var after = await ReadRowAsync(insert.NewRow, columns, _newImage, ct).ConfigureAwait(false);
                await ChangeAsync(insert.TransactionXid, columns, CdcOp.Create, null, after, ct).ConfigureAwait(false);
                break;
            }
            case UpdateMessage update:
                await UpdateAsync(update, ct).ConfigureAwait(false);
                break;
            case DeleteMessage delete:
            {
                var columns = _catalog.Columns(delete.Relation);
                var old = delete switch
                {
                    FullDeleteMessage full => full.OldRow,
                    KeyDeleteMessage key => key.Key,
                    _ => null,
                };
                var before = old is null ? null : await ReadRowAsync(old, columns, _oldImage, ct).ConfigureAwait(false);
                await ChangeAsync(delete.TransactionXid, columns, CdcOp.Delete, before, null, ct).ConfigureAwait(false);
                break;
            }
            case TruncateMessage truncate:
                foreach (var relation in truncate.Relations)
                {
                    var columns = _catalog.Columns(relation);
                    var value = CdcEnvelope.Value(CdcOp.Truncate, columns, null, null, Source(false), _now());
                    await EmitAsync(truncate.TransactionXid, columns.Topic, null, value, ct).ConfigureAwait(false);
                    if (Chunk is { Window: not null } chunk && chunk.Topic == columns.Topic) chunk.Truncated = true;
                }
                break;
            case StreamStartMessage start:
                if (!_spools.TryGetValue(start.TransactionXid, out _streaming))
                    _spools[start.TransactionXid] = _streaming = new CdcSpool(_spoolDirectory, start.TransactionXid);
                break;
            case StreamStopMessage:
                _streaming = null;
                break;
            case StreamCommitMessage commit:
                await ReplayAsync(commit, ct).ConfigureAwait(false);
                break;
            case StreamAbortMessage abort:
                if (_spools.TryGetValue(abort.TransactionXid, out var spool))
                {
                    if (abort.SubtransactionXid == abort.TransactionXid)
                    {
                        spool.Dispose();
                        _spools.Remove(abort.TransactionXid);
                    }
                    else spool.AbortSubtransaction(abort.SubtransactionXid);
                }
                break;
            case LogicalDecodingMessage logical:
                await OnLogicalMessageAsync(logical, ct).ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask UpdateAsync(UpdateMessage update, CancellationToken ct)
    {
        var columns = _catalog.Columns(update.Relation);
        CdcRow? before = null;
        switch (update)
        {
            case FullUpdateMessage full:
                before = await ReadRowAsync(full.OldRow, columns, _oldImage, ct).ConfigureAwait(false);
                break;
            case IndexUpdateMessage index:
                before = await ReadRowAsync(index.Key, columns, _oldImage, ct).ConfigureAwait(false);
                break;
        }
        var after = await ReadRowAsync(update.NewRow, columns, _newImage, ct).ConfigureAwait(false);
        if (before is not null && columns.HasKey)
        {
            var oldKey = CdcEnvelope.Key(columns, before)!;
            if (!oldKey.AsSpan().SequenceEqual(CdcEnvelope.Key(columns, after)))
            {
                // A primary key change is, as in Debezium, a delete of the old key (and its tombstone) then a create.
                await ChangeAsync(update.TransactionXid, columns, CdcOp.Delete, before, null, ct).ConfigureAwait(false);
                await ChangeAsync(update.TransactionXid, columns, CdcOp.Create, null, after, ct).ConfigureAwait(false);
                return;
            }
        }
        await ChangeAsync(update.TransactionXid, columns, CdcOp.Update, before, after, ct).ConfigureAwait(false);
    }

    private async ValueTask ChangeAsync(uint? xid, CdcColumns columns, CdcOp op, CdcRow? before, CdcRow? after, CancellationToken ct)
    {
        var key = CdcEnvelope.Key(columns, (after ?? before)!);
        var value = CdcEnvelope.Value(op, columns, before, after, Source(false), _now());
        await EmitAsync(xid, columns.Topic, key, value, ct).ConfigureAwait(false);
        // A delete is followed by a tombstone, so log compaction can drop the key.
        if (op == CdcOp.Delete && key is not null) await EmitAsync(xid, columns.Topic, key, null, ct).ConfigureAwait(false);
    }

    private CdcSourceInfo Source(bool snapshot) => new(_options.Name, _options.Database, _txLsn, _txId, _txMillis, snapshot);

    private void StartTransaction(ulong commitLsn, uint? xid, DateTime commitTime)
    {
        _txLsn = commitLsn;
        _txId = xid ?? 0;
        _txMillis = new DateTimeOffset(DateTime.SpecifyKind(commitTime, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        _seq = 0;
        _held = null;
        _delivered[_deliveredCount++ % DeliveredRing] = _txId;
    }

    private uint[] RecentlyDelivered()
    {
        var count = (int)Math.Min(_deliveredCount, DeliveredRing);
        var recent = new uint[count];
        for (var i = 0; i < count; i++) recent[i] = _delivered[(_deliveredCount - count + i) % DeliveredRing];
        return recent;
    }

    private async ValueTask EndTransactionAsync(ulong endLsn, CancellationToken ct)
    {
        if (_held is not null)
        {
            _held.TxEnd = true;
            await _out.WriteAsync(_held, ct).ConfigureAwait(false);
            _held = null;
        }
        await _out.WriteAsync(CdcItem.Confirm(endLsn, _txMillis), ct).ConfigureAwait(false);
    }

    private async ValueTask EmitAsync(uint? xid, string topic, byte[]? key, byte[]? value, CancellationToken ct)
    {
        if (_streaming is not null)
        {
            _streaming.Add(xid ?? 0, topic, key, value);
            return;
        }
        if (Chunk is { Window: { } window } chunk && chunk.Topic == topic && key is not null) window.Add(Encoding.UTF8.GetString(key));
        var item = CdcItem.Record(topic, key, value, _txLsn, _seq++, _txId, _txMillis);
        item.TxBegin = item.Seq == 0;
        if (_held is not null) await _out.WriteAsync(_held, ct).ConfigureAwait(false);
        _held = item;
    }

    private async ValueTask ReplayAsync(StreamCommitMessage commit, CancellationToken ct)
    {
        StartTransaction((ulong)commit.CommitLsn, commit.TransactionXid, commit.TransactionCommitTimestamp);
        if (_spools.Remove(commit.TransactionXid, out var spool))
        {
            using (spool)
            {
                foreach (var (topic, key, value) in spool.Replay())
                    await EmitAsync(_txId, topic, key, value, ct).ConfigureAwait(false);
            }
        }
        await EndTransactionAsync((ulong)commit.TransactionEndLsn, ct).ConfigureAwait(false);
    }

    private async ValueTask OnLogicalMessageAsync(LogicalDecodingMessage message, CancellationToken ct)
    {
        string payload;
        using (var reader = new StreamReader(message.Data, Encoding.UTF8, leaveOpen: true))
            payload = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        if (message.Prefix == HeartbeatPrefix)
        {
            // Every transaction committed before this message was sent before it: once they are durable, PostgreSQL may release up to here.
            await _out.WriteAsync(CdcItem.Confirm((ulong)message.MessageLsn, 0), ct).ConfigureAwait(false);
            return;
        }
        if (message.Prefix != WatermarkPrefix || Chunk is not { } chunk || payload.Length < 2 || payload[2..] != chunk.Id) return;
        if (payload[0] == 'L')
        {
            chunk.Window = new HashSet<string>(StringComparer.Ordinal);
            chunk.DeliveredBeforeLow = RecentlyDelivered();
            return;
        }
        if (payload[0] != 'H' || chunk.Window is null) return;
        Chunk = null;
        if (chunk.Invisible.Count > 0 && Array.Exists(chunk.DeliveredBeforeLow!, chunk.Invisible.Contains))
        {
            // A change the SELECT did not see is in the log before the window: the rows could undo it.
            chunk.Retry = true;
            chunk.Completed.TrySetResult();
            return;
        }
        // pgoutput reports a message at its record's end, where the next transaction's commit record
        // may start: the rows go one below it, after every earlier commit and before every later one
        // (at the end itself, the log writer would take that commit's changes for replays and skip them).
        var lsn = (ulong)message.MessageLsn - 1;
        var seq = 0;
        CdcItem? last = null;
        if (!chunk.Truncated)
        {
            foreach (var (key, value) in chunk.Rows)
            {
                var text = Encoding.UTF8.GetString(key);
                if (chunk.Window.Contains(text) || chunk.AlreadyLogged?.Contains(text) == true) continue;
                if (last is not null) await _out.WriteAsync(last, ct).ConfigureAwait(false);
                last = CdcItem.Record(chunk.Topic, key, value, lsn, seq++, 0, _now());
            }
        }
        if (last is not null)
        {
            last.SnapshotCursor = chunk.Last ? SnapshotProgress.Done : chunk.EndCursor;
            await _out.WriteAsync(last, ct).ConfigureAwait(false);
        }
        await _out.WriteAsync(CdcItem.ChunkDone(chunk), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a tuple into <paramref name="row"/>: each value's text (binary=false: the type's
    /// output-function text, whatever the type) copied as UTF-8 bytes from the message, no string.
    /// </summary>
    private static async ValueTask<CdcRow> ReadRowAsync(ReplicationTuple tuple, CdcColumns columns, CdcRow row, CancellationToken ct)
    {
        row.Reset(columns.Count);
        var i = 0;
        await foreach (var value in tuple.ConfigureAwait(false))
        {
            if (i < columns.Count)
            {
                switch (value.Kind)
                {
                    case TupleDataKind.Null:
                        break;
                    case TupleDataKind.UnchangedToastedValue:
                        row.SetUnchangedToast(i);
                        break;
                    default:
                        await ReadTextAsync(value, row.Reserve(i, value.Length), ct).ConfigureAwait(false);
                        break;
                }
            }
            i++;
        }
        return row;
    }

    private static async ValueTask ReadTextAsync(ReplicationValue value, Memory<byte> target, CancellationToken ct)
    {
        // Npgsql's column stream over the message, reused for every value: no allocation.
        var stream = value.GetStream();
        while (!target.IsEmpty)
        {
            var read = await stream.ReadAsync(target, ct).ConfigureAwait(false);
            if (read == 0) throw new EndOfStreamException("the replication message ended inside a value");
            target = target[read..];
        }
    }

    public void Dispose()
    {
        foreach (var spool in _spools.Values) spool.Dispose();
        _spools.Clear();
    }
}
