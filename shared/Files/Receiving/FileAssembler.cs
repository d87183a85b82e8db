using System.Security.Cryptography;
using EdgeStream.Files.Format;
using EdgeStream.Records;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Files.Receiving;

/// <summary>
/// Turns file records into files under a directory: DIR/{origin}/{path}. <see cref="Accept"/> checks a
/// record (shape, safe origin and path, chunk SHA-256) and writes a chunk at its offset into the file
/// version's partial data file, in any order, ignoring duplicates; <see cref="Flush"/> makes everything
/// accepted so far durable (data fsynced, then the reassembly state) and materializes every file that is
/// complete and whose whole SHA-256 matches: mtime and mode set, fsynced, renamed into place. A caller
/// acknowledges (commits) records only after <see cref="Flush"/> returned. Partial state lives in
/// DIR/.edgestream-files, which no origin can name.
/// </summary>
public sealed class FileAssembler : IDisposable
{
    public const string StateDirectoryName = ".edgestream-files";

    private readonly string _root;
    private readonly string _partialDirectory;
    private readonly string _doneDirectory;
    private readonly string? _localOrigin;
    private readonly FilesStatus _status;
    private readonly ILogger _logger;
    private readonly Dictionary<string, PartialFile> _open = new(StringComparer.Ordinal);
    private readonly HashSet<PartialFile> _touched = [];
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);

    /// <param name="directory">The receiver's root: files land in {directory}/{origin}/{path}.</param>
    /// <param name="localOrigin">The origin of records without an <c>es.origin.node</c> header (the node's own id); null: the sender's <c>file.host</c>.</param>
    public FileAssembler(string directory, FilesStatus status, ILogger logger, string? localOrigin = null)
    {
        _root = Path.GetFullPath(directory);
        _partialDirectory = Path.Combine(_root, StateDirectoryName, "partial");
        _doneDirectory = Path.Combine(_root, StateDirectoryName, "done");
        Directory.CreateDirectory(_partialDirectory);
        Directory.CreateDirectory(_doneDirectory);
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
        if (IsDone(key)) return; // a duplicate of a file already in place

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
        // A file complete by now needs no reassembly state: it is verified, fsynced once and renamed into place
        // (if that is cut short, the uncommitted records come again and rebuild it). The others are made durable.
        foreach (var partial in _touched)
        {
            if (partial.IsComplete) Materialize(partial);
            else Disk(partial.Persist, partial);
        }
        _touched.Clear();
    }

    private void Materialize(PartialFile partial)
    {
        var key = partial.Origin + "." + partial.FileId;
        if (partial.Size == 0) Disk(partial.CreateEmpty, partial);
        if (!File.Exists(partial.DataPath))
        {
            // A crash between the rename and the done marker: the file is in place already.
            MarkDone(key, partial);
            return;
        }
        if (!Disk(partial.VerifyWhole, partial))
        {
            partial.MarkCorrupt();
            Disk(partial.Persist, partial);
            FilesLog.HashMismatch(_logger, partial.Origin, partial.RelativePath, partial.FileId);
            _status.Progress(partial.Origin, partial.FileId, partial.RelativePath, partial.Size, partial.ReceivedBytes, "hash-mismatch");
            _status.Error($"{partial.Origin}/{partial.RelativePath}: whole-file SHA-256 mismatch, not materialized");
            return;
        }
        string target;
        try
        {
            target = SafePath.PrepareDirectory(_root, [partial.Origin, .. partial.Parts]);
        }
        catch (FilesException ex)
        {
            // A planted link or a directory in the way: this version is never written; the data is dropped.
            FilesLog.Refused(_logger, partial.Origin, partial.RelativePath, ex.Message);
            _status.Rejected($"{partial.Origin}/{partial.RelativePath}: {ex.Message}");
            MarkDone(key, partial);
            return;
        }
        Disk(() => partial.MoveTo(target), partial);
        MarkDone(key, partial);
        FilesLog.FileCompleted(_logger, partial.Origin, partial.RelativePath, partial.Size, partial.Chunks, Convert.ToHexStringLower(partial.WholeSha256!), target);
        _status.Completed(partial.Origin, partial.FileId, partial.RelativePath, partial.Size);
    }

    private void MarkDone(string key, PartialFile partial)
    {
        File.WriteAllBytes(Path.Combine(_doneDirectory, key), []);
        partial.DeleteState();
        partial.Dispose();
        _open.Remove(key);
        _done.Add(key);
    }

    private bool IsDone(string key)
    {
        if (_done.Contains(key)) return true;
        if (_open.ContainsKey(key) || !File.Exists(Path.Combine(_doneDirectory, key))) return false;
        _done.Add(key);
        return true;
    }

    private void Reject(int partition, long offset, string reason)
    {
        _status.Rejected(reason);
        FilesLog.Rejected(_logger, partition, offset, reason);
    }

    // Every disk operation goes through here: a full disk or an I/O error becomes one clear exception, and the
    // partial file stays for the records to be delivered again.
    private void Disk(Action action, PartialFile partial) => Disk(() => { action(); return true; }, partial);

    private T Disk<T>(Func<T> action, PartialFile partial)
    {
        try
        {
            return action();
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            var message = $"disk full under {_root} while writing {partial.Origin}/{partial.RelativePath}: {ex.Message}; the partial file is kept and nothing after the last durable chunk was acknowledged";
            _status.Error(message);
            throw new FilesDiskFullException(message, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var message = $"cannot write {partial.Origin}/{partial.RelativePath} under {_root}: {ex.Message}";
            _status.Error(message);
            throw new FilesException(message, ex);
        }
    }

    private static bool IsDiskFull(IOException ex) =>
        ex.HResult is 28 or 112 or unchecked((int)0x80070070) or unchecked((int)0x80070027)
        || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || ex.Message.Contains("quota", StringComparison.OrdinalIgnoreCase);

    public void Dispose()
    {
        foreach (var p in _open.Values) p.Dispose();
        _open.Clear();
    }
}
