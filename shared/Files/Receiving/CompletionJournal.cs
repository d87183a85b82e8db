using System.Text;
using Microsoft.Win32.SafeHandles;

namespace EdgeStream.Files.Receiving;

/// <summary>One completed file version as the journal records it: its key, and where it goes (null: nowhere, it was refused or is in place already).</summary>
internal readonly record struct Completion(string Key, string? Target);

/// <summary>
/// <c>DIR/.edgestream-files/completed.log</c>: the one place a receiver records that file versions are complete,
/// one fsync per batch. A line per version, <c>{origin}.{id} TAB {origin}/{path}</c> (or <c>-</c> instead of the
/// target when nothing is to be renamed), UTF-8, <c>\n</c>-terminated; paths hold no control characters, so the
/// format needs no escaping. A line is appended only after the version's data file is verified and fsynced, and
/// before it is renamed into place: a line whose data file still exists names a rename still to be done (redone at
/// start). The file is emptied at a checkpoint, once the renames and done markers it covers are durable themselves.
/// A last line without its <c>\n</c> was cut short by a crash before its fsync: never acknowledged, ignored.
/// </summary>
internal sealed class CompletionJournal : IDisposable
{
    public const string FileName = "completed.log";

    private readonly SafeFileHandle _handle;
    private long _length;

    public CompletionJournal(string stateDirectory)
    {
        Path = System.IO.Path.Combine(stateDirectory, FileName);
        _handle = File.OpenHandle(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _length = RandomAccess.GetLength(_handle);
    }

    public string Path { get; }

    /// <summary>Lines appended since the last checkpoint (after a restart: those found at start).</summary>
    public int Count { get; private set; }

    /// <summary>The complete lines the journal holds, oldest first.</summary>
    public List<Completion> ReadAll()
    {
        var bytes = new byte[_length];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(_handle, bytes.AsSpan(read), read);
            if (n == 0) break;
            read += n;
        }
        var entries = new List<Completion>();
        var text = Encoding.UTF8.GetString(bytes, 0, read);
        var end = text.LastIndexOf('\n');
        if (end < 0) return entries;
        foreach (var line in text[..end].Split('\n'))
        {
            var tab = line.IndexOf('\t');
            if (tab <= 0) continue;
            var target = line[(tab + 1)..];
            entries.Add(new Completion(line[..tab], target == "-" ? null : target));
        }
        Count = entries.Count;
        return entries;
    }

    /// <summary>Appends <paramref name="entries"/> and fsyncs once: from here on they are complete, whatever happens.</summary>
    public void Append(IReadOnlyList<Completion> entries)
    {
        if (entries.Count == 0) return;
        var text = new StringBuilder();
        foreach (var e in entries) text.Append(e.Key).Append('\t').Append(e.Target ?? "-").Append('\n');
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        RandomAccess.Write(_handle, bytes, _length);
        RandomAccess.FlushToDisk(_handle);
        _length += bytes.Length;
        Count += entries.Count;
    }

    /// <summary>Empties the journal (durably). The caller first made durable everything its lines describe.</summary>
    public void Clear()
    {
        RandomAccess.SetLength(_handle, 0);
        RandomAccess.FlushToDisk(_handle);
        _length = 0;
        Count = 0;
    }

    public void Dispose() => _handle.Dispose();
}
