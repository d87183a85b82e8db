using System.IO.MemoryMappedFiles;

namespace EdgeStream.Storage.Segments;

/// <summary>
/// A read-only memory map of a whole segment file, for the scans of recovery and fsck: they read
/// every byte once, and a map lets them do it as one span without holding the segment in the heap.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _pointer;
    private readonly int _length;

    public MappedFile(string path)
    {
        var length = new FileInfo(path).Length;
        if (length > int.MaxValue)
            throw new StorageException($"{path}: segment of {length} bytes is larger than 2 GiB and cannot be a segment.");
        _length = (int)length;
        if (_length == 0) return;
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, _length, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + _view.PointerOffset;
    }

    public int Length => _length;

    public ReadOnlySpan<byte> Span => _length == 0 ? default : new ReadOnlySpan<byte>(_pointer, _length);

    public void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
