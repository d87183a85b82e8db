using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace EdgeStream.Files.Sending;

/// <summary>What the sender knows of one file at one target: the version it sent and how far the broker acknowledged it.</summary>
public sealed record SendState(string FileId, long Size, long MtimeNs, int ChunkSize, int AckedChunks, bool Complete);

/// <summary>
/// The sender's memory between runs: one small file per (target, source file) in a state directory,
/// rewritten in place after every acknowledgement. A fixed-size record written with one pwrite survives
/// kill -9 of the sender (it is in the page cache); a record torn by a power cut does not parse and the
/// file is sent again from the start under the same version id, which receivers de-duplicate.
/// </summary>
public sealed class SendStateStore
{
    private const int RecordSize = 256;
    private const string Magic = "edgestream-send-v1";

    private readonly string _directory;

    /// <param name="directory">Where state files live, e.g. <c>~/.local/state/edgestream/send</c>.</param>
    /// <param name="target">What identifies the destination (bootstrap address and topic): another target starts over.</param>
    public SendStateStore(string directory, string target)
    {
        _directory = Path.Combine(directory, Hash(target)[..16]);
        Directory.CreateDirectory(_directory);
    }

    /// <summary>The default state directory: <c>$XDG_STATE_HOME/edgestream/send</c>, else <c>~/.local/state/edgestream/send</c>.</summary>
    public static string DefaultDirectory()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        return Path.Combine(root, "edgestream", "send");
    }

    /// <summary>Opens the state of <paramref name="file"/> (read, then rewritten in place by <see cref="Entry.Save"/>).</summary>
    public Entry Open(SourceFile file) => new(Path.Combine(_directory, Hash(file.FullPath + "\n" + file.Name)[..32] + ".state"));

    internal static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>One file's state record, kept open while the file is sent.</summary>
    public sealed class Entry : IDisposable
    {
        private readonly string _path;
        private SafeFileHandle? _handle;
        // Only while the file is being sent: a run over many files keeps every entry until it ends.
        private byte[]? _buffer;

        internal Entry(string path) => _path = path;

        /// <summary>The last state saved, or null when there is none or it does not parse.</summary>
        public SendState? Load()
        {
            try
            {
                var bytes = File.ReadAllBytes(_path);
                return Parse(Encoding.ASCII.GetString(bytes).TrimEnd(' ', '\n', '\0'));
            }
            catch (FileNotFoundException) { return null; }
            catch (DirectoryNotFoundException) { return null; }
        }

        /// <summary>Overwrites the record (one pwrite, no fsync: it has to survive the process, not the machine).</summary>
        public void Save(SendState state)
        {
            _handle ??= File.OpenHandle(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            _buffer ??= new byte[RecordSize];
            var text = string.Create(CultureInfo.InvariantCulture,
                $"{Magic} {state.FileId} {state.Size} {state.MtimeNs} {state.ChunkSize} {state.AckedChunks} {(state.Complete ? 1 : 0)}");
            Array.Fill(_buffer, (byte)' ');
            var n = Encoding.ASCII.GetBytes(text, _buffer);
            _buffer[RecordSize - 1] = (byte)'\n';
            if (n >= RecordSize) throw new FilesException($"send state record too long for {_path}");
            RandomAccess.Write(_handle, _buffer, 0);
        }

        private static SendState? Parse(string text)
        {
            var parts = text.Split(' ');
            if (parts.Length != 7 || parts[0] != Magic || parts[1].Length != 32) return null;
            if (!long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size)) return null;
            if (!long.TryParse(parts[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var mtime)) return null;
            if (!int.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var chunk) || chunk <= 0) return null;
            if (!int.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var acked)) return null;
            if (parts[6] is not ("0" or "1")) return null;
            return new SendState(parts[1], size, mtime, chunk, acked, parts[6] == "1");
        }

        public void Dispose()
        {
            _handle?.Dispose();
            _handle = null;
            _buffer = null;
        }
    }
}
