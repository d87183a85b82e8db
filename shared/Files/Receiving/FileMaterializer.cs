using Microsoft.Extensions.Logging;

namespace EdgeStream.Files.Receiving;

/// <summary>
/// Puts complete file versions in place a batch at a time, with durability paid per batch rather than per file:
/// every file of the batch is verified, given its mode and mtime and started on its way to disk, then fsynced
/// (after the first, the others find their metadata committed already); one line per file goes into the
/// <see cref="CompletionJournal"/> with one fsync (the commit point); then each is renamed into place and gets its
/// done marker, neither synced one by one. The directories those renames and markers touched are fsynced at a
/// checkpoint every <see cref="CheckpointEvery"/> files, after which the journal is emptied; until then the
/// journal redoes, at start, any rename a crash cut off. A wrong file is never visible: only verified, fsynced
/// data is renamed, atomically. A completed version is never materialized twice: its journal line, then its done
/// marker, make later copies of its records no-ops.
/// </summary>
internal sealed class FileMaterializer : IDisposable
{
    /// <summary>Journal lines between checkpoints: the directory fsyncs are paid once per this many files.</summary>
    public const int CheckpointEvery = 4096;

    private readonly string _root;
    private readonly string _partialDirectory;
    private readonly string _doneDirectory;
    private readonly CompletionJournal _journal;
    private readonly FilesStatus _status;
    private readonly ILogger _logger;
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    // Directories whose entries changed since the last checkpoint (renames in, markers, removed data files).
    private readonly HashSet<string> _unsynced = new(StringComparer.Ordinal);

    public FileMaterializer(string root, string stateDirectory, FilesStatus status, ILogger logger)
    {
        _root = root;
        _partialDirectory = Path.Combine(stateDirectory, "partial");
        _doneDirectory = Path.Combine(stateDirectory, "done");
        Directory.CreateDirectory(_partialDirectory);
        Directory.CreateDirectory(_doneDirectory);
        _status = status;
        _logger = logger;
        _journal = DiskFailures.Run(() => new CompletionJournal(stateDirectory), _root, CompletionJournal.FileName, status);
        DiskFailures.Run(Recover, _root, CompletionJournal.FileName, status);
    }

    public string PartialDirectory => _partialDirectory;

    /// <summary>Whether the version <paramref name="key"/> (<c>{origin}.{id}</c>) was completed here before: its records are duplicates.</summary>
    public bool IsDone(string key)
    {
        if (_done.Contains(key)) return true;
        if (!File.Exists(Path.Combine(_doneDirectory, key))) return false;
        _done.Add(key);
        return true;
    }

    /// <summary>
    /// Materializes <paramref name="complete"/> (every chunk written and verified, the manifest seen). A file whose
    /// whole SHA-256 does not match is marked corrupt and kept out. Returns when the batch is durable: the caller
    /// may then acknowledge the records. Throws <see cref="FilesException"/> when the disk fails (nothing of the
    /// batch counts as done unless its journal line was written; a restart finishes the renames of those that were).
    /// </summary>
    public void Materialize(IReadOnlyList<PartialFile> complete)
    {
        var batch = new List<PartialFile>(complete.Count);
        foreach (var partial in complete)
        {
            // Put in place by an earlier version of this receiver, which renamed before writing its done marker.
            if (partial.Loaded && !File.Exists(partial.DataPath))
            {
                batch.Add(partial);
                continue;
            }
            if (!Disk(partial.VerifyWhole, partial))
            {
                partial.MarkCorrupt();
                Disk(partial.Persist, partial);
                FilesLog.HashMismatch(_logger, partial.Origin, partial.RelativePath, partial.FileId);
                _status.Progress(partial.Origin, partial.FileId, partial.RelativePath, partial.Size, partial.ReceivedBytes, "hash-mismatch");
                _status.Error($"{partial.Origin}/{partial.RelativePath}: whole-file SHA-256 mismatch, not materialized");
                continue;
            }
            Disk(partial.Seal, partial);
            batch.Add(partial);
        }
        if (batch.Count == 0) return;

        var targets = new string?[batch.Count];
        var entries = new List<Completion>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var partial = batch[i];
            if (File.Exists(partial.DataPath))
            {
                Disk(partial.Sync, partial);
                targets[i] = Target(partial);
            }
            entries.Add(new Completion(Key(partial), targets[i] is null ? null : partial.Origin + "/" + partial.RelativePath));
        }
        // The data files' names must be durable before a journal line points at them (a power cut could drop a new
        // file's directory entry otherwise): one directory fsync for the batch.
        DirectorySync.Sync(_partialDirectory);
        DiskFailures.Run(() => _journal.Append(entries), _root, _journal.Path, _status);

        for (var i = 0; i < batch.Count; i++)
        {
            var partial = batch[i];
            if (targets[i] is { } target)
            {
                Disk(() => partial.MoveTo(target), partial);
                _unsynced.Add(Path.GetDirectoryName(target)!);
                FilesLog.FileCompleted(_logger, partial.Origin, partial.RelativePath, partial.Size, partial.Chunks, Convert.ToHexStringLower(partial.WholeSha256!), target);
                _status.Completed(partial.Origin, partial.FileId, partial.RelativePath, partial.Size);
            }
            partial.Dispose();
            Disk(() => Finish(Key(partial)), partial);
        }
        if (_journal.Count >= CheckpointEvery) DiskFailures.Run(Checkpoint, _root, _journal.Path, _status);
    }

    // The verified file's place, its directories created; null when refused (a planted link, a directory in the
    // way): the version is then never written and its data dropped.
    private string? Target(PartialFile partial)
    {
        try
        {
            return SafePath.PrepareDirectory(_root, [partial.Origin, .. partial.Parts]);
        }
        catch (FilesException ex)
        {
            FilesLog.Refused(_logger, partial.Origin, partial.RelativePath, ex.Message);
            _status.Rejected($"{partial.Origin}/{partial.RelativePath}: {ex.Message}");
            return null;
        }
    }

    // After the journal line: the reassembly files go, the done marker comes (durable at the next checkpoint).
    private void Finish(string key)
    {
        File.Delete(Path.Combine(_partialDirectory, key + ".state"));
        File.Delete(Path.Combine(_partialDirectory, key + ".data"));
        File.WriteAllBytes(Path.Combine(_doneDirectory, key), []);
        _done.Add(key);
    }

    // At start: every version the journal lists is complete; a rename a crash cut off is done now (its data was
    // fsynced before the line was written), then everything is made durable and the journal emptied.
    private void Recover()
    {
        foreach (var entry in _journal.ReadAll())
        {
            var data = Path.Combine(_partialDirectory, entry.Key + ".data");
            if (entry.Target is not null && File.Exists(data))
            {
                var parts = SafePath.Split(entry.Target, out var reason);
                try
                {
                    if (parts is null || !SafePath.IsSafeOrigin(parts[0])) throw new FilesException(reason);
                    var target = SafePath.PrepareDirectory(_root, parts);
                    File.Move(data, target, overwrite: true);
                    _unsynced.Add(Path.GetDirectoryName(target)!);
                    FilesLog.Redone(_logger, entry.Target, target);
                }
                catch (FilesException ex)
                {
                    FilesLog.Refused(_logger, parts?[0] ?? "?", entry.Target, ex.Message);
                }
            }
            Finish(entry.Key);
        }
        Checkpoint();
    }

    private void Checkpoint()
    {
        _unsynced.Add(_partialDirectory);
        _unsynced.Add(_doneDirectory);
        foreach (var directory in _unsynced) DirectorySync.Sync(directory);
        _unsynced.Clear();
        _journal.Clear();
    }

    private static string Key(PartialFile partial) => partial.Origin + "." + partial.FileId;

    private void Disk(Action action, PartialFile partial) => DiskFailures.Run(action, _root, partial.Origin + "/" + partial.RelativePath, _status);

    private T Disk<T>(Func<T> action, PartialFile partial) => DiskFailures.Run(action, _root, partial.Origin + "/" + partial.RelativePath, _status);

    public void Dispose() => _journal.Dispose();
}
