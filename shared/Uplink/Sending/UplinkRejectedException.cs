namespace EdgeStream.Uplink.Sending;

/// <summary>The parent refused a frame as INVALID, or broke the protocol (a reply out of order).</summary>
public sealed class UplinkRejectedException : UplinkException
{
    public UplinkRejectedException(string message) : base(message) { }
}
