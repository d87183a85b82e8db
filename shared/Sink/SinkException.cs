namespace EdgeStream.Sink;

/// <summary>Root of the sink's exceptions: the external cluster answered in a way the sink cannot use (retried like any failure).</summary>
public class SinkException : EdgeStreamException
{
    public SinkException(string message) : base(message) { }
    public SinkException(string message, Exception inner) : base(message, inner) { }
}
