namespace EdgeStream.Uplink.Sending;

/// <summary>
/// The parent refuses this node: it is on the parent's deny list. Not a protocol error: the node keeps
/// its data and reconnects with its usual capped backoff until it is unrevoked.
/// </summary>
public sealed class UplinkRevokedException : UplinkException
{
    public UplinkRevokedException(string message) : base(message) { }
}
