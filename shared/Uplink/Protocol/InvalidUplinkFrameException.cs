namespace EdgeStream.Uplink.Protocol;

/// <summary>A frame that cannot be decoded or breaks a limit; the receiver closes the stream.</summary>
public sealed class InvalidUplinkFrameException : UplinkException
{
    public InvalidUplinkFrameException(string message) : base(message) { }

    public InvalidUplinkFrameException(string message, Exception inner) : base(message, inner) { }
}
