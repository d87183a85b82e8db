using System.Buffers.Binary;

namespace EdgeStream.Storage.Segments;

/// <summary>
/// A sparse, append-only index of (key int64, value int32) entries, both non-decreasing.
/// The offset index maps an absolute offset to the byte position of the batch that starts there;
/// the time index maps "largest timestamp so far" to the offset (relative to the segment) of the
/// batch that raised it. Both are hints: lookups land at or before the target and scan forward,
/// so a missing trailing entry costs a little scanning, never a wrong answer. That is also why
/// index files are never fsynced: recovery can always rebuild them from the log.
/// </summary>
internal sealed class SparseIndex : IDisposable
{
    public const int EntrySize = 12;

    private readonly string _path;
    private long[] _keys;
    private int[] _values;
    private int _count;
    private FileStream? _file;
    private readonly byte[] _entry = new byte[EntrySize];

    private SparseIndex(string path, long[] keys, int[] values, int count)
    {
        _path = path;
        _keys = keys;
        _values = values;
        _count = count;
    }

    public string Path => _path;
    public int Count => _count;
    public long LastKey => _count == 0 ? long.MinValue : _keys[_count - 1];
    public int LastValue => _count == 0 ? 0 : _values[_count - 1];

    public static SparseIndex CreateEmpty(string path)
    {
        var index = new SparseIndex(path, new long[16], new int[16], 0);
        index.OpenFile(truncate: true);
        return index;
    }

    /// <summary>
    /// Loads an index file. Returns null when it is missing or fails a sanity check (size not a whole
    /// number of entries, keys or values going backwards, a value past <paramref name="maxValue"/>),
    /// so the caller rebuilds it.
    /// </summary>
    public static SparseIndex? TryLoad(string path, long minKey, int maxValue)
    {
        if (!File.Exists(path)) return null;
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException) { return null; }
        if (bytes.Length % EntrySize != 0) return null;
        var count = bytes.Length / EntrySize;
        var keys = new long[Math.Max(16, count)];
        var values = new int[Math.Max(16, count)];
        long prevKey = minKey;
        var prevValue = 0;
        for (var i = 0; i < count; i++)
        {
            var key = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(i * EntrySize));
            var value = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(i * EntrySize + 8));
            if (key < prevKey || value < prevValue || value > maxValue) return null;
            keys[i] = prevKey = key;
            values[i] = prevValue = value;
        }
        var index = new SparseIndex(path, keys, values, count);
        index.OpenFile(truncate: false);
        return index;
    }

    public void Append(long key, int value)
    {
        if (_count == _keys.Length)
        {
            Array.Resize(ref _keys, _count * 2);
            Array.Resize(ref _values, _count * 2);
        }
        _keys[_count] = key;
        _values[_count] = value;
        _count++;
        BinaryPrimitives.WriteInt64BigEndian(_entry, key);
        BinaryPrimitives.WriteInt32BigEndian(_entry.AsSpan(8), value);
        _file!.Write(_entry);
    }

    /// <summary>The entry with the largest key &lt;= <paramref name="key"/>; false when every key is larger.</summary>
    public bool TryFindFloor(long key, out long foundKey, out int value)
    {
        var i = UpperBound(key) - 1;
        if (i < 0) { foundKey = 0; value = 0; return false; }
        foundKey = _keys[i];
        value = _values[i];
        return true;
    }

    /// <summary>The entry with the largest key strictly below <paramref name="key"/>.</summary>
    public bool TryFindBelow(long key, out long foundKey, out int value) =>
        key == long.MinValue ? Fail(out foundKey, out value) : TryFindFloor(key - 1, out foundKey, out value);

    private static bool Fail(out long k, out int v) { k = 0; v = 0; return false; }

    // First index whose key is greater than `key`.
    private int UpperBound(long key)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_keys[mid] <= key) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    public void Flush() => _file?.Flush(flushToDisk: false);

    public void Clear()
    {
        _count = 0;
        _file!.SetLength(0);
        _file.Position = 0;
    }

    public void Delete()
    {
        Dispose();
        File.Delete(_path);
    }

    private void OpenFile(bool truncate)
    {
        _file = new FileStream(_path, truncate ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 4096);
        _file.Position = (long)_count * EntrySize;
        if (!truncate) _file.SetLength(_file.Position);
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }
}
