namespace EdgeStream.Uplink;

/// <summary>Root of the uplink library's exceptions (frames, the receiver, the sender).</summary>
public class UplinkException : EdgeStreamException
{
    public UplinkException(string message) : base(message) { }
    public UplinkException(string message, Exception inner) : base(message, inner) { }
}
