namespace EdgeStream.Cdc.Capture;

/// <summary>
/// The changes of one in-progress transaction PostgreSQL streams before its commit (pgoutput
/// protocol v2), already encoded, in a file: memory stays bounded however large the transaction.
/// Replayed at its stream commit; dropped at its abort, or a subtransaction's part at that one's abort.
/// </summary>
internal sealed class CdcSpool : IDisposable
{
    private readonly string _path;
    private readonly FileStream _file;
    private readonly BinaryWriter _writer;
    private readonly HashSet<uint> _aborted = [];

    public CdcSpool(string directory, uint xid)
    {
        Directory.CreateDirectory(directory);
        _path = Path.Combine(directory, $"spool-{xid}");
        _file = new FileStream(_path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        _writer = new BinaryWriter(_file);
    }

    public void Add(uint subxid, string topic, byte[]? key, byte[]? value)
    {
        _writer.Write(subxid);
        _writer.Write(topic);
        WriteBytes(key);
        WriteBytes(value);
    }

    public void AbortSubtransaction(uint subxid) => _aborted.Add(subxid);

    /// <summary>The spooled changes in order, without aborted subtransactions'.</summary>
    public IEnumerable<(string Topic, byte[]? Key, byte[]? Value)> Replay()
    {
        _writer.Flush();
        _file.Position = 0;
        var reader = new BinaryReader(_file);
        while (_file.Position < _file.Length)
        {
            var subxid = reader.ReadUInt32();
            var topic = reader.ReadString();
            var key = ReadBytes(reader);
            var value = ReadBytes(reader);
            if (!_aborted.Contains(subxid)) yield return (topic, key, value);
        }
    }

    private void WriteBytes(byte[]? bytes)
    {
        _writer.Write(bytes?.Length ?? -1);
        if (bytes is not null) _writer.Write(bytes);
    }

    private static byte[]? ReadBytes(BinaryReader reader)
    {
        var length = reader.ReadInt32();
        return length < 0 ? null : reader.ReadBytes(length);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _file.Dispose();
    }

    public override string ToString() => _path;
}
