using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeStream.Files.Format;
using EdgeStream.Kafka.Client;
using EdgeStream.Kafka.Protocol;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Records;
using Microsoft.Win32.SafeHandles;

namespace EdgeStream.Files.Sending;

/// <summary>
/// Sends files as chunk records (<see cref="FileRecordCodec"/>) through a Kafka client: an idempotent
/// producer with up to <see cref="FileSendOptions.Window"/> produce requests pipelined on the leader's
/// connection, across file boundaries, so many small files flow as fast as one large one. Memory is a
/// fixed set of window buffers whatever the file sizes. After every acknowledgement the file's
/// <see cref="SendStateStore"/> record moves on, so a run started again after Ctrl-C or kill -9 sends
/// only what was not acknowledged (the whole-file hash is recomputed by reading the skipped part
/// locally), and skips files that were fully sent and have not changed.
/// </summary>
public sealed class FileSender
{
    private const int BatchOverhead = 8 * 1024; // batch header, record framing and headers, a 4 KiB path included

    private readonly KafkaClient _client;
    private readonly FileSendOptions _options;
    private readonly IFileSendProgress _progress;

    public FileSender(KafkaClient client, FileSendOptions options, IFileSendProgress progress)
    {
        options.Validate();
        _client = client;
        _options = options;
        _progress = progress;
    }

    public async Task<SendSummary> SendAsync(IReadOnlyList<SourceFile> files, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var (topic, chunkSize) = await PrepareTopicAsync(cancellationToken).ConfigureAwait(false);
        var store = new SendStateStore(_options.StateDirectory, $"{_client.Bootstrap}/{topic.Name}");
        var jobs = new List<FileJob>(files.Count);
        var unchangedFiles = new List<FileJob>();
        var failed = 0;
        long skipped = 0, total = 0;
        foreach (var file in files)
        {
            var job = FileJob.Open(file, store, chunkSize, _options.Host, out var error);
            if (job is null)
            {
                _progress.Failed(file, error!);
                failed++;
                continue;
            }
            total += job.Size;
            if (job.IsComplete)
            {
                unchangedFiles.Add(job);
                skipped += job.Size;
                job.Dispose();
                continue;
            }
            jobs.Add(job);
        }
        _progress.Started(files.Count, total);
        foreach (var job in unchangedFiles) _progress.Unchanged(job.Source, job.Size);

        var pipeline = new Pipeline(_client, topic, _options.Window, chunkSize + BatchOverhead);
        var attempt = 0;
        var next = 0;
        try
        {
            while (next < jobs.Count)
            {
                try
                {
                    await pipeline.StartAsync(cancellationToken).ConfigureAwait(false);
                    for (; next < jobs.Count; next++)
                        await SendFileAsync(pipeline, jobs[next], cancellationToken).ConfigureAwait(false);
                    await pipeline.DrainAsync(cancellationToken).ConfigureAwait(false);
                    attempt = 0;
                }
                catch (KafkaClientException ex) when (!cancellationToken.IsCancellationRequested && ++attempt < _options.MaxAttempts)
                {
                    // Whatever was in flight is unknown: resend each unfinished file from its last acknowledged chunk
                    // under a new producer id (the broker may hold some of them twice; receivers ignore duplicates).
                    _progress.Retrying(ex.Message, attempt);
                    await pipeline.AbandonAsync().ConfigureAwait(false);
                    next = FirstUnfinished(jobs);
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt * attempt), cancellationToken).ConfigureAwait(false);
                    topic = await _client.GetTopicAsync(topic.Name, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
                    pipeline = new Pipeline(_client, topic, _options.Window, chunkSize + BatchOverhead);
                }
            }
        }
        catch (KafkaClientException ex) when (!cancellationToken.IsCancellationRequested)
        {
            foreach (var job in jobs)
                if (!job.IsComplete && !job.IsFailed) job.Fail(_progress, $"not sent: {ex.Message}");
        }
        finally
        {
            foreach (var job in jobs) job.Dispose();
        }

        long sent = 0;
        var sentFiles = 0;
        foreach (var job in jobs)
        {
            sent += job.BytesSent;
            skipped += job.BytesSkipped;
            if (job.IsComplete) sentFiles++;
            else failed++;
        }
        return new SendSummary(files.Count, sentFiles, unchangedFiles.Count, failed, sent, skipped, clock.Elapsed);
    }

    private static int FirstUnfinished(List<FileJob> jobs)
    {
        for (var i = 0; i < jobs.Count; i++)
        {
            if (jobs[i].IsComplete || jobs[i].IsFailed) continue;
            return i;
        }
        return jobs.Count;
    }

    /// <summary>
    /// The topic, created when missing with a low uplink.priority (a broker that does not know that config,
    /// i.e. not EdgeStream, gets the topic without it), and the chunk size, lowered when the topic's
    /// max.message.bytes would not take a chunk record.
    /// </summary>
    private async Task<(TopicDescription Topic, int ChunkSize)> PrepareTopicAsync(CancellationToken cancellationToken)
    {
        TopicDescription topic;
        try
        {
            topic = await _client.GetTopicAsync(_options.Topic, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaClientException ex) when (ex.ErrorCode == KafkaErrors.UnknownTopicOrPartition)
        {
            var priority = new KeyValuePair<string, string>("uplink.priority", FileSendOptions.DefaultUplinkPriority.ToString(CultureInfo.InvariantCulture));
            try { await _client.CreateTopicAsync(_options.Topic, configs: [priority], cancellationToken: cancellationToken).ConfigureAwait(false); }
            catch (KafkaClientException create) when (create.ErrorCode is 40 /* INVALID_CONFIG */)
            {
                await _client.CreateTopicAsync(_options.Topic, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaClientException create) when (create.ErrorCode == KafkaErrors.TopicAlreadyExists) { }
            topic = await _client.GetTopicAsync(_options.Topic, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
        }
        var chunk = _options.ChunkSize;
        try
        {
            foreach (var c in await _client.DescribeTopicConfigsAsync(topic.Name, cancellationToken).ConfigureAwait(false))
            {
                if (c.Name == "max.message.bytes" && int.TryParse(c.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && chunk + BatchOverhead > max)
                    chunk = Math.Max(1024, (max - BatchOverhead) / 4096 * 4096);
            }
        }
        catch (KafkaClientException) { /* a broker without DescribeConfigs: keep the configured size */ }
        return (topic, chunk);
    }

    private async Task SendFileAsync(Pipeline pipeline, FileJob job, CancellationToken cancellationToken)
    {
        if (job.IsComplete || job.IsFailed) return;
        try
        {
            if (job.Rewind()) _progress.Resumed(job.Source, job.Acked, job.BytesSkipped);
            var sha = new byte[32];
            while (job.NextChunk < job.ChunkCount)
            {
                var index = job.NextChunk;
                var offset = (long)index * job.ChunkSize;
                var length = (int)Math.Min(job.ChunkSize, job.Size - offset);
                // The chunk is read straight into its place in the batch (headers of the same size, the hash still zero).
                Array.Clear(sha);
                var (batch, valueOffset) = await pipeline.PlaceAsync(job, length,
                    FileRecordCodec.ChunkHeaders(job.Source.Name, job.Size, job.MtimeNs, job.Mode, _options.Host, index, offset, length, sha), _progress, cancellationToken).ConfigureAwait(false);
                var value = batch.Buffer.AsMemory(valueOffset, length);
                job.ReadNext(value.Span);
                SHA256.HashData(value.Span, sha);
                pipeline.Append(batch, job, index, length, FileRecordCodec.ChunkHeaders(job.Source.Name, job.Size, job.MtimeNs, job.Mode, _options.Host, index, offset, length, sha), value);
            }
            var whole = job.FinishReading();
            var manifest = FileRecordCodec.ManifestHeaders(job.Source.Name, job.Size, job.MtimeNs, job.Mode, _options.Host, job.ChunkCount, whole);
            var (manifestBatch, _) = await pipeline.PlaceAsync(job, 0, manifest, _progress, cancellationToken).ConfigureAwait(false);
            pipeline.Append(manifestBatch, job, -1, 0, manifest, ReadOnlyMemory<byte>.Empty);
        }
        catch (FilesException ex)
        {
            job.Fail(_progress, ex.Message);
        }
        catch (IOException ex)
        {
            job.Fail(_progress, $"cannot read: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            job.Fail(_progress, $"cannot read: {ex.Message}");
        }
    }

    /// <summary>
    /// The window: a fixed set of batch buffers, one of them open (filling with the records of one partition,
    /// across file boundaries), the requests in flight in send order, and the producer id with a sequence per
    /// partition. A batch goes out when the next record does not fit or belongs to another partition, and at the
    /// end. Acknowledgements are taken in send order; a file's records are all in one partition, and one
    /// connection answers in order, so a file's acks come in chunk order.
    /// </summary>
    private sealed class Pipeline(KafkaClient client, TopicDescription topic, int window, int batchSize)
    {
        private readonly Queue<InFlight> _inFlight = new();
        private readonly Stack<Slot> _free = new();
        private readonly Dictionary<int, int> _sequences = [];
        private readonly Partitioner _partitioner = new();
        private Slot? _open;
        private int _created;
        private long _producerId = -1;
        private short _epoch = -1;
        private IFileSendProgress? _progress;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            if (_producerId >= 0) return;
            (_producerId, _epoch) = await client.InitProducerIdAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// The open batch with room for a record of <paramref name="job"/> (a value of <paramref name="valueLength"/>
        /// bytes, headers of the size of <paramref name="headers"/>) and where its value goes: the open one when it
        /// fits and is for the same partition, else a fresh one after the open one was sent.
        /// </summary>
        public async Task<(FileRecordBatch Batch, int ValueOffset)> PlaceAsync(FileJob job, int valueLength, List<RecordHeader> headers,
            IFileSendProgress progress, CancellationToken cancellationToken)
        {
            _progress = progress;
            var partition = _partitioner.Partition(job.Key, true, topic.PartitionCount);
            if (_open is { } open && open.Partition == partition)
            {
                var offset = open.Batch.ValueOffset(job.Key, valueLength, headers);
                if (offset >= 0) return (open.Batch, offset);
            }
            if (_open is not null) await SendOpenAsync(cancellationToken).ConfigureAwait(false);
            var slot = await RentAsync(cancellationToken).ConfigureAwait(false);
            slot.Open(partition);
            _open = slot;
            var first = slot.Batch.ValueOffset(job.Key, valueLength, headers);
            if (first < 0) throw new FilesException($"a {valueLength}-byte chunk record does not fit in a {batchSize}-byte batch");
            return (slot.Batch, first);
        }

        /// <summary>Appends the record placed by <see cref="PlaceAsync"/> (its value already in place) to the open batch.</summary>
        public void Append(FileRecordBatch batch, FileJob job, int index, int length, List<RecordHeader> headers, ReadOnlyMemory<byte> value)
        {
            batch.Append(job.Key, value, headers);
            _open!.Acks.Add(new Ack(job, index, length));
        }

        private async Task<Slot> RentAsync(CancellationToken cancellationToken)
        {
            while (_free.Count == 0)
            {
                if (_created < window)
                {
                    _created++;
                    // Allocated once per run, the first time the window grows to it: small sends stay small.
                    return new Slot(new FileRecordBatch(new byte[batchSize]));
                }
                await CompleteOldestAsync(cancellationToken).ConfigureAwait(false);
            }
            return _free.Pop();
        }

        private async Task SendOpenAsync(CancellationToken cancellationToken)
        {
            var slot = _open!;
            _open = null;
            if (slot.Batch.Count == 0)
            {
                // Its one record was never appended (the file could not be read).
                _free.Push(slot);
                return;
            }
            _sequences.TryGetValue(slot.Partition, out var sequence);
            // Sequences wrap at int.MaxValue, as Kafka producers do.
            _sequences[slot.Partition] = (int)(((long)sequence + slot.Batch.Count) % ((long)int.MaxValue + 1));
            var batch = slot.Batch.Seal(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _producerId, _epoch, sequence);
            var request = new ProduceRequest
            {
                Acks = -1,
                TimeoutMs = (int)client.Options.RequestTimeout.TotalMilliseconds,
                TopicData = [new ProduceRequest.TopicProduceData
                {
                    Name = topic.Name,
                    PartitionData = [new ProduceRequest.PartitionProduceData { Index = slot.Partition, Records = batch }],
                }],
            };
            try
            {
                var connection = await client.LeaderConnectionAsync(topic, slot.Partition, cancellationToken).ConfigureAwait(false);
                var response = await connection.WriteAsync<ProduceResponse>(request, connection.VersionFor(ApiKey.Produce), cancellationToken).ConfigureAwait(false);
                _inFlight.Enqueue(new InFlight(response, slot));
            }
            catch
            {
                _free.Push(slot);
                throw;
            }
        }

        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            if (_open is not null) await SendOpenAsync(cancellationToken).ConfigureAwait(false);
            while (_inFlight.Count > 0) await CompleteOldestAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>After a failure: wait out what is in flight, keeping what was acknowledged before the failure; the open batch is dropped unsent.</summary>
        public async Task AbandonAsync()
        {
            _open = null;
            while (_inFlight.TryDequeue(out var f))
            {
                try { await f.Response.ConfigureAwait(false); }
                catch (Exception) { /* the failure is being handled; what is unacknowledged is resent */ }
            }
        }

        private async Task CompleteOldestAsync(CancellationToken cancellationToken)
        {
            var f = _inFlight.Peek();
            var response = await f.Response.WaitAsync(cancellationToken).ConfigureAwait(false);
            _inFlight.Dequeue();
            try
            {
                foreach (var t in response.Responses)
                    foreach (var p in t.PartitionResponses)
                    {
                        if (p.ErrorCode == 0) continue;
                        // Retriable or not, the request was not stored: the caller resends from the last acknowledged chunk.
                        throw KafkaClientException.FromBroker(p.ErrorCode, $"'{topic.Name}' partition {p.Index}", p.ErrorMessage);
                    }
                foreach (var ack in f.Slot.Acks) ack.Job.Acknowledge(ack.Index, ack.Length, _progress!);
            }
            finally
            {
                _free.Push(f.Slot);
            }
        }

        private readonly record struct InFlight(Task<ProduceResponse> Response, Slot Slot);
    }

    /// <summary>A record acknowledged with its batch: chunk <see cref="Index"/> of a file, or its manifest (-1).</summary>
    private readonly record struct Ack(FileJob Job, int Index, int Length);

    /// <summary>One of the window's buffers: the batch laid out in it, its partition, and what its acknowledgement acknowledges.</summary>
    private sealed class Slot(FileRecordBatch batch)
    {
        public FileRecordBatch Batch { get; } = batch;
        public int Partition { get; private set; }
        public List<Ack> Acks { get; } = [];

        public void Open(int partition)
        {
            Partition = partition;
            Batch.Clear();
            Acks.Clear();
        }
    }

    /// <summary>One file being sent: its identity, the open handle, the hash of what was read, how far it is acknowledged.</summary>
    private sealed class FileJob : IDisposable
    {
        private readonly SendStateStore.Entry _entry;
        private SafeFileHandle? _handle;
        private IncrementalHash? _hash;
        private bool _rewound;

        private FileJob(SourceFile source, SendStateStore.Entry entry) { Source = source; _entry = entry; }

        public SourceFile Source { get; }
        public required string FileId { get; init; }
        public required byte[] Key { get; init; }
        public required long Size { get; init; }
        public required long MtimeNs { get; init; }
        public required int Mode { get; init; }
        public required int ChunkSize { get; init; }
        public int ChunkCount => (int)((Size + ChunkSize - 1) / ChunkSize);
        public int Acked { get; private set; }
        public int NextChunk { get; private set; }
        public bool IsComplete { get; private set; }
        public bool IsFailed { get; private set; }
        public long BytesSent { get; private set; }
        public long BytesSkipped { get; private set; }

        public static FileJob? Open(SourceFile source, SendStateStore store, int chunkSize, string host, out string? error)
        {
            error = null;
            SendStateStore.Entry? entry = null;
            try
            {
                var info = new FileInfo(source.FullPath);
                if (!info.Exists) { error = "no such file"; return null; }
                var size = info.Length;
                if ((size + chunkSize - 1) / chunkSize > FileRecordCodec.MaxChunks) { error = $"{size} bytes need more than {FileRecordCodec.MaxChunks} chunks; use a larger --chunk"; return null; }
                var mtime = (info.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks) * 100;
                var mode = OperatingSystem.IsWindows() ? 0x1A4 : (int)info.UnixFileMode;
                // The version id: the same file content at the same time under the same name and chunking gets the
                // same id in every run, so even a lost state file only costs a resend the receiver de-duplicates.
                var id = SendStateStore.Hash(string.Create(CultureInfo.InvariantCulture, $"{host}\n{source.Name}\n{size}\n{mtime}\n{chunkSize}"))[..32];
                entry = store.Open(source);
                var state = entry.Load();
                var job = new FileJob(source, entry)
                {
                    FileId = id, Key = Encoding.ASCII.GetBytes(id), Size = size, MtimeNs = mtime, Mode = mode, ChunkSize = chunkSize,
                };
                // Unchanged since it was fully sent (whatever chunk size it went with): skipped. Half sent with the
                // same chunking: resumed. Anything else is a new version, sent from the start.
                if (state is not null && state.Size == size && state.MtimeNs == mtime && state.Complete) job.IsComplete = true;
                else if (state is not null && state.FileId == id && state.Size == size && state.MtimeNs == mtime && state.ChunkSize == chunkSize)
                    job.Acked = Math.Min(state.AckedChunks, job.ChunkCount);
                return job;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                entry?.Dispose();
                error = ex.Message;
                return null;
            }
        }

        /// <summary>
        /// Opens the file and reads (hashing, not sending) the chunks already acknowledged. True the first
        /// time when an earlier run left some: the caller reports the resume.
        /// </summary>
        public bool Rewind()
        {
            _handle?.Dispose();
            _handle = File.OpenHandle(Source.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
            _hash?.Dispose();
            _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var skipBytes = Math.Min((long)Acked * ChunkSize, Size);
            var buffer = skipBytes > 0 ? new byte[Math.Min(ChunkSize, 1024 * 1024)] : [];
            long position = 0;
            while (position < skipBytes)
            {
                var n = RandomAccess.Read(_handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, skipBytes - position)), position);
                if (n == 0) throw new FilesException($"{Source.FullPath} became shorter while being sent");
                _hash.AppendData(buffer, 0, n);
                position += n;
            }
            NextChunk = Acked;
            if (_rewound) return false;
            _rewound = true;
            BytesSkipped = skipBytes;
            return skipBytes > 0;
        }

        /// <summary>Reads chunk <see cref="NextChunk"/> (exactly <paramref name="buffer"/>'s length) and hashes it into the whole-file hash.</summary>
        public void ReadNext(Span<byte> buffer)
        {
            var offset = (long)NextChunk * ChunkSize;
            var read = 0;
            while (read < buffer.Length)
            {
                var n = RandomAccess.Read(_handle!, buffer[read..], offset + read);
                if (n == 0) throw new FilesException($"{Source.FullPath} became shorter while being sent");
                read += n;
            }
            _hash!.AppendData(buffer);
            NextChunk++;
        }

        /// <summary>The whole file's SHA-256, after checking the file did not change under the sender.</summary>
        public byte[] FinishReading()
        {
            var info = new FileInfo(Source.FullPath);
            if (!info.Exists || info.Length != Size || (info.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks) * 100 != MtimeNs)
                throw new FilesException($"{Source.FullPath} changed while being sent; run again to send the new version");
            var hash = _hash!.GetHashAndReset();
            _hash.Dispose();
            _hash = null;
            _handle!.Dispose();
            _handle = null;
            return hash;
        }

        public void Acknowledge(int index, int length, IFileSendProgress progress)
        {
            if (index < 0)
            {
                IsComplete = true;
                _entry.Save(new SendState(FileId, Size, MtimeNs, ChunkSize, ChunkCount, Complete: true));
                if (!IsFailed) progress.Completed(Source, Size);
                Dispose(); // thousands of small files must not keep a handle each until the run ends
                return;
            }
            if (index + 1 <= Acked) return;
            Acked = index + 1;
            BytesSent += length;
            _entry.Save(new SendState(FileId, Size, MtimeNs, ChunkSize, Acked, Complete: false));
            progress.Acknowledged(Source, length);
        }

        public void Fail(IFileSendProgress progress, string error)
        {
            if (IsFailed) return;
            IsFailed = true;
            progress.Failed(Source, error);
        }

        public void Dispose()
        {
            _handle?.Dispose();
            _handle = null;
            _hash?.Dispose();
            _hash = null;
            _entry.Dispose();
        }
    }
}
