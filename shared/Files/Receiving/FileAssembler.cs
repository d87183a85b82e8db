using System.Security.Cryptography;
using EdgeStream.Files.Format;
using EdgeStream.Records;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Files.Receiving;

/// <summary>
/// Turns file records into files under a directory: DIR/{origin}/{path}. <see cref="Accept"/> checks a
/// record (shape, safe origin and path, chunk SHA-256) and writes a chunk at its offset into the file
/// version's partial data file, in any order, ignoring duplicates; <see cref="Flush"/> makes everything
/// accepted so far durable: the files complete by then are materialized together by the
/// <see cref="FileMaterializer"/> (verified, fsynced, recorded in one journal write, renamed into place),
/// the others get their data fsynced and their reassembly state saved. A caller acknowledges (commits)
/// records only after <see cref="Flush"/> returned. Partial state lives in DIR/.edgestream-files, which no
/// origin can name.
/// </summary>
public sealed class FileAssembler : IDisposable
{
    public const string StateDirectoryName = ".edgestream-files";

    private readonly string _root;
    private readonly string _partialDirectory;
    private readonly FileMaterializer _materializer;
    private readonly string? _localOrigin;
    private readonly FilesStatus _status;
    private readonly ILogger _logger;
    private readonly Dictionary<string, PartialFile> _open = new(StringComparer.Ordinal);
    private readonly HashSet<PartialFile> _touched = [];

    /// <param name="directory">The receiver's root: files land in {directory}/{origin}/{path}.</param>
    /// <param name="localOrigin">The origin of records without an <c>es.origin.node</c> header (the node's own id); null: the sender's <c>file.host</c>.</param>
    public FileAssembler(string directory, FilesStatus status, ILogger logger, string? localOrigin = null)
    {
        _root = Path.GetFullPath(directory);
        _materializer = new FileMaterializer(_root, Path.Combine(_root, StateDirectoryName), status, logger);
        _partialDirectory = _materializer.PartialDirectory;
        _localOrigin = localOrigin;
        _status = status;
        _logger = logger;
    }

    /// <summary>Checks and writes one record (not yet durable). Throws <see cref="FilesException"/> only when the disk fails.</summary>
    public void Accept(int partition, in Record record)
    {
        if (!FileRecordCodec.TryDecode(record, out var file, out var error))
        {
            Reject(partition, record.Offset, error);
            return;
        }
        var origin = FileRecordCodec.Header(record, FileRecordCodec.OriginNodeHeader) ?? _localOrigin ?? file!.Host ?? "unknown";
        if (!SafePath.IsSafeOrigin(origin))
        {
            Reject(partition, record.Offset, $"origin '{origin}' is not a safe directory name");
            return;
        }
        var parts = SafePath.Split(file!.Path, out var reason);
        if (parts is null)
        {
            _status.Rejected($"{origin}: {reason}");
            FilesLog.Refused(_logger, origin, file.Path, reason);
            return;
        }
        var key = origin + "." + file.FileId;
        if (!_open.ContainsKey(key) && _materializer.IsDone(key)) return; // a duplicate of a file already in place

        if (!_open.TryGetValue(key, out var partial))
        {
            partial = PartialFile.Load(_partialDirectory, key, origin, file.FileId)
                ?? PartialFile.Create(_partialDirectory, key, origin, file.FileId, parts, file.Path, file.Size, file.MtimeNs, file.Mode);
            _open[key] = partial;
        }
        if (partial.RelativePath != file.Path || partial.Size != file.Size)
        {
            Reject(partition, record.Offset, $"file {file.FileId} was announced as {partial.RelativePath} ({partial.Size} bytes), this record says {file.Path} ({file.Size} bytes)");
            return;
        }
        if (file.Kind == FileRecordKind.Manifest)
        {
            if (partial.Chunks < 0)
            {
                partial.SetManifest(file.Chunks, file.Sha256, file.MtimeNs, file.Mode);
                _touched.Add(partial);
            }
        }
        else
        {
            if (partial.Chunks >= 0 && file.Index >= partial.Chunks)
            {
                Reject(partition, record.Offset, $"chunk {file.Index} of {file.Path}, whose manifest counts {partial.Chunks}");
                return;
            }
            if (partial.Has(file.Index)) return; // duplicate
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(file.Data.Span, hash);
            if (!hash.SequenceEqual(file.Sha256))
            {
                _status.BadChunk(origin, file.FileId, file.Path, file.Size, partial.ReceivedBytes);
                FilesLog.BadChunk(_logger, origin, file.Path, file.FileId, file.Index);
                return;
            }
            Disk(() => partial.Write(file.Index, file.Offset, file.Data.Span), partial);
            _touched.Add(partial);
        }
        _status.Progress(origin, file.FileId, file.Path, file.Size, partial.ReceivedBytes, partial.Corrupt ? "hash-mismatch" : "receiving");
    }

    /// <summary>
    /// Makes every record accepted so far durable and materializes the files that are complete. After it
    /// returns, the records accepted before it may be acknowledged.
    /// </summary>
    public void Flush()
    {
        // A file complete by now needs no reassembly state: it is materialized with the others of this batch (if that
        // is cut short before its journal line, the uncommitted records come again and rebuild it). The others are
        // made durable one by one: a file spans batches only when it is large, so this is paid per batch, not per file.
        var complete = new List<PartialFile>();
        foreach (var partial in _touched)
        {
            if (partial.IsComplete) complete.Add(partial);
            else Disk(partial.Persist, partial);
        }
        _touched.Clear();
        if (complete.Count == 0) return;
        _materializer.Materialize(complete);
        foreach (var partial in complete)
            if (!partial.Corrupt) _open.Remove(partial.Origin + "." + partial.FileId);
    }

    private void Reject(int partition, long offset, string reason)
    {
        _status.Rejected(reason);
        FilesLog.Rejected(_logger, partition, offset, reason);
    }

    // Every disk operation goes through here: a full disk or an I/O error becomes one clear exception, and the
    // partial file stays for the records to be delivered again.
    private void Disk(Action action, PartialFile partial) => DiskFailures.Run(action, _root, partial.Origin + "/" + partial.RelativePath, _status);

    public void Dispose()
    {
        foreach (var p in _open.Values) p.Dispose();
        _open.Clear();
        _materializer.Dispose();
    }
}
