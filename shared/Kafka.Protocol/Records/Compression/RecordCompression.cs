namespace EdgeStream.Kafka.Protocol.Records;

/// <summary>
/// The record-batch compression codecs. Placeholder until the codec work lands:
/// gzip only, so the storage layer can be built and tested against uncompressed batches.
/// </summary>
public static class RecordCompression
{
    public static byte[] Compress(CompressionType type, ReadOnlySpan<byte> data) =>
        throw new NotSupportedException($"compression {type} is not implemented yet");

    public static byte[] Decompress(CompressionType type, ReadOnlySpan<byte> data, int maxBytes) =>
        throw new NotSupportedException($"compression {type} is not implemented yet");
}
