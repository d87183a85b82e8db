using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeStream.Files.Sending;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// Progress of <c>edgestream send</c> for people and pipes: plain lines on stdout (a progress line at most
/// every two seconds, a line per completed, resumed or unchanged file), failures on stderr.
/// </summary>
internal class PlainSendProgress : IFileSendProgress
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TextWriter _out;
    private long _lastLine;

    public PlainSendProgress(TextWriter output) => _out = output;

    protected int Files { get; private set; }
    protected int FilesDone { get; private set; }
    protected long TotalBytes { get; private set; }
    protected long DoneBytes { get; private set; }
    protected TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Whether a progress line is printed every two seconds (not under a bar redrawn in place).</summary>
    protected virtual bool PeriodicLines => true;

    public virtual void Started(int files, long bytes)
    {
        Files = files;
        TotalBytes = bytes;
        _out.WriteLine($"sending {files} file(s), {ByteSize.Format(bytes)}");
    }

    public virtual void Unchanged(SourceFile file, long size)
    {
        FilesDone++;
        DoneBytes += size;
        _out.WriteLine($"unchanged since it was sent: {file.Name} ({ByteSize.Format(size)})");
    }

    public virtual void Resumed(SourceFile file, int skippedChunks, long skippedBytes)
    {
        DoneBytes += skippedBytes;
        _out.WriteLine($"resuming {file.Name}: {skippedChunks} chunk(s), {ByteSize.Format(skippedBytes)} already acknowledged, skipped");
    }

    public virtual void Acknowledged(SourceFile file, long bytes)
    {
        DoneBytes += bytes;
        var now = _clock.ElapsedMilliseconds;
        if (!PeriodicLines || now - _lastLine < 2000) return;
        _lastLine = now;
        _out.WriteLine($"progress: {FilesDone}/{Files} files, {ByteSize.Format(DoneBytes)} of {ByteSize.Format(TotalBytes)}, {Rate()}/s, ETA {Eta()}");
    }

    public virtual void Completed(SourceFile file, long size)
    {
        FilesDone++;
        _out.WriteLine($"sent {file.Name} ({ByteSize.Format(size)})");
    }

    public virtual void Failed(SourceFile file, string error)
    {
        Console.Error.WriteLine($"edgestream send: {file.Name}: {error}");
    }

    public virtual void Retrying(string error, int attempt) =>
        Console.Error.WriteLine($"edgestream send: {error}; reconnecting (attempt {attempt + 1}), unacknowledged chunks are sent again");

    public virtual void Finished(SendSummary s) =>
        _out.WriteLine($"done: {s.Sent} sent, {s.Unchanged} unchanged, {s.Failed} failed; {ByteSize.Format(s.BytesSent)} sent, {ByteSize.Format(s.BytesSkipped)} skipped, in {s.Elapsed.TotalSeconds:0.0} s");

    protected string Rate() => ByteSize.Format((long)(DoneBytes / Math.Max(_clock.Elapsed.TotalSeconds, 0.001)));

    protected string Eta()
    {
        var rate = DoneBytes / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        if (rate <= 0) return "?";
        var left = TimeSpan.FromSeconds((TotalBytes - DoneBytes) / rate);
        return left.TotalHours >= 1 ? left.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : left.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }
}

/// <summary><c>--json</c>: one JSON object per line and event, for scripts.</summary>
internal sealed class JsonSendProgress : PlainSendProgress
{
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private long _lastProgress;

    public JsonSendProgress() : base(TextWriter.Null) { }

    public override void Started(int files, long bytes)
    {
        base.Started(files, bytes);
        Emit("started", w => { w.WriteNumber("files", files); w.WriteNumber("bytes", bytes); });
    }

    public override void Unchanged(SourceFile file, long size)
    {
        base.Unchanged(file, size);
        Emit("unchanged", w => { w.WriteString("path", file.Name); w.WriteNumber("size", size); });
    }

    public override void Resumed(SourceFile file, int skippedChunks, long skippedBytes)
    {
        base.Resumed(file, skippedChunks, skippedBytes);
        Emit("resumed", w => { w.WriteString("path", file.Name); w.WriteNumber("skippedChunks", skippedChunks); w.WriteNumber("skippedBytes", skippedBytes); });
    }

    public override void Acknowledged(SourceFile file, long bytes)
    {
        base.Acknowledged(file, bytes);
        var now = (long)Elapsed.TotalMilliseconds;
        if (now - _lastProgress < 1000) return;
        _lastProgress = now;
        Emit("progress", w =>
        {
            w.WriteNumber("filesDone", FilesDone); w.WriteNumber("files", Files);
            w.WriteNumber("bytesDone", DoneBytes); w.WriteNumber("bytes", TotalBytes);
            w.WriteNumber("bytesPerSecond", (long)(DoneBytes / Math.Max(Elapsed.TotalSeconds, 0.001)));
        });
    }

    public override void Completed(SourceFile file, long size)
    {
        base.Completed(file, size);
        Emit("completed", w => { w.WriteString("path", file.Name); w.WriteNumber("size", size); });
    }

    public override void Failed(SourceFile file, string error)
    {
        base.Failed(file, error);
        Emit("failed", w => { w.WriteString("path", file.Name); w.WriteString("error", error); });
    }

    public override void Retrying(string error, int attempt) =>
        Emit("retrying", w => { w.WriteString("error", error); w.WriteNumber("attempt", attempt); });

    public override void Finished(SendSummary s) => Emit("summary", w =>
    {
        w.WriteNumber("files", s.Files); w.WriteNumber("sent", s.Sent); w.WriteNumber("unchanged", s.Unchanged); w.WriteNumber("failed", s.Failed);
        w.WriteNumber("bytesSent", s.BytesSent); w.WriteNumber("bytesSkipped", s.BytesSkipped); w.WriteNumber("seconds", s.Elapsed.TotalSeconds);
    });

    private void Emit(string kind, Action<Utf8JsonWriter> body)
    {
        using (var writer = new Utf8JsonWriter(_stdout))
        {
            writer.WriteStartObject();
            writer.WriteString("event", kind);
            body(writer);
            writer.WriteEndObject();
        }
        _stdout.WriteByte((byte)'\n');
        _stdout.Flush();
    }
}

/// <summary>
/// On a terminal: one bar redrawn in place (files done/total, bytes, rate, ETA) at most ten times a second,
/// with the per-file lines of <see cref="PlainSendProgress"/> printed above it.
/// </summary>
internal sealed class TerminalSendProgress() : PlainSendProgress(new BarClearingWriter())
{
    private long _lastDraw;

    protected override bool PeriodicLines => false;

    public override void Acknowledged(SourceFile file, long bytes)
    {
        base.Acknowledged(file, bytes);
        var now = (long)Elapsed.TotalMilliseconds;
        if (now - _lastDraw < 100) return;
        _lastDraw = now;
        Draw();
    }

    public override void Completed(SourceFile file, long size)
    {
        base.Completed(file, size);
        Draw();
    }

    public override void Finished(SendSummary s)
    {
        Console.Out.Write("\r\u001b[2K");
        base.Finished(s);
    }

    private void Draw()
    {
        const int width = 30;
        var fraction = TotalBytes == 0 ? 1 : Math.Clamp(DoneBytes / (double)TotalBytes, 0, 1);
        var filled = (int)(fraction * width);
        Console.Out.Write($"\r\u001b[2K[{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,5:0.0}%  {FilesDone}/{Files} files  {ByteSize.Format(DoneBytes)}/{ByteSize.Format(TotalBytes)}  {Rate()}/s  ETA {Eta()}");
        Console.Out.Flush();
    }

    /// <summary>Clears the bar before a line is printed, so lines scroll above it.</summary>
    private sealed class BarClearingWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => Console.Out.Encoding;
        public override void Write(char value) => Console.Out.Write(value);
        public override void WriteLine(string? value) => Console.Out.WriteLine("\r\u001b[2K" + value);
    }
}
