using System.Text;

namespace EdgeStream.Cdc.Records;

/// <summary>
/// One row image in text form: per column the value's UTF-8 text (as pgoutput sends it), SQL NULL
/// or "unchanged TOAST". The texts share one buffer and the row is reset for the next change rather
/// than allocated again: the capture copies each value once, straight from the replication message.
/// </summary>
public sealed class CdcRow
{
    private byte[] _text = new byte[256];
    private int _used;
    private int[] _start;
    // -1: SQL NULL (also what an unchanged TOAST value reads as).
    private int[] _length;
    private bool[] _unchangedToast;

    public CdcRow(int count)
    {
        _start = new int[count];
        _length = new int[count];
        _unchangedToast = new bool[count];
        Reset(count);
    }

    public int Count { get; private set; }

    /// <summary>Empties the row for an image of <paramref name="count"/> columns, every one NULL.</summary>
    public void Reset(int count)
    {
        if (_length.Length < count)
        {
            _start = new int[count];
            _length = new int[count];
            _unchangedToast = new bool[count];
        }
        Count = count;
        _used = 0;
        _length.AsSpan(0, count).Fill(-1);
        _unchangedToast.AsSpan(0, count).Clear();
    }

    public bool IsNull(int column) => _length[column] < 0;

    public bool IsUnchangedToast(int column) => _unchangedToast[column];

    public void SetUnchangedToast(int column) => _unchangedToast[column] = true;

    /// <summary>The column's UTF-8 text; empty for NULL (ask <see cref="IsNull"/>).</summary>
    public ReadOnlySpan<byte> Utf8(int column) => _length[column] < 0 ? default : _text.AsSpan(_start[column], _length[column]);

    /// <summary>Room for the column's text of <paramref name="length"/> bytes, to be filled by the caller.</summary>
    public Memory<byte> Reserve(int column, int length)
    {
        if (_text.Length - _used < length) Array.Resize(ref _text, Math.Max(_text.Length * 2, _used + length));
        _start[column] = _used;
        _length[column] = length;
        _used += length;
        return _text.AsMemory(_start[column], length);
    }

    public void SetText(int column, string? text)
    {
        if (text is null) { _length[column] = -1; return; }
        var target = Reserve(column, Encoding.UTF8.GetByteCount(text)).Span;
        Encoding.UTF8.GetBytes(text, target);
    }
}
