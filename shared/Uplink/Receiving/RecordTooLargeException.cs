namespace EdgeStream.Uplink.Receiving;

/// <summary>A record that cannot be stored in the target topic whatever the batching (bigger than max.message.bytes).</summary>
public sealed class RecordTooLargeException : UplinkException
{
    public RecordTooLargeException(string message) : base(message) { }
}
