using EdgeStream.Uplink.Protocol;

namespace EdgeStream.Uplink.Receiving;

/// <summary>Settings of the parent side of the uplink.</summary>
public sealed record UplinkReceiverOptions
{
    /// <summary>Decoding limits; <see cref="UplinkFrameLimits.MaxFrameBytes"/> also bounds the gRPC message size. Default 16 MiB frames.</summary>
    public UplinkFrameLimits Limits { get; init; } = UplinkFrameLimits.Default;

    /// <summary>Frames of one stream being written at once; past it the stream stops reading (backpressure). Default 64.</summary>
    public int MaxPendingReplies { get; init; } = 64;

    /// <summary>
    /// With mutual TLS: given the child's client certificate and the node id it claims, null when the
    /// certificate is that node's, else why not (the stream is refused with it). Null: no check (clear text).
    /// </summary>
    public Func<System.Security.Cryptography.X509Certificates.X509Certificate2?, string, string?>? CheckIdentity { get; init; }

    /// <summary>Stored origin offset ranges kept per origin stream and target partition (memory bound). Default 1024.</summary>
    public int MaxRangesPerStream { get; init; } = 1024;

    /// <summary>Largest gRPC message accepted: an LZ4 block of a maximum frame plus the protobuf envelope.</summary>
    public int MaxReceiveMessageBytes => (int)Math.Min(int.MaxValue, K4os.Compression.LZ4.LZ4Codec.MaximumOutputSize(Limits.MaxFrameBytes) + 1024L);

    public void Validate()
    {
        if (Limits.MaxFrameBytes < 1024) throw new ArgumentException("the uplink frame limit must be at least 1 KiB");
        if (MaxPendingReplies < 1) throw new ArgumentException("MaxPendingReplies must be positive");
        if (MaxRangesPerStream < 1) throw new ArgumentException("MaxRangesPerStream must be positive");
    }
}
