using System.Security.Cryptography;
using System.Text;
using Confluent.Kafka;
using EdgeStream.Files.Format;

namespace EdgeStream.Files.Tests;

/// <summary>File records made by hand with Confluent.Kafka (another client than ours), for hostile and tampered input.</summary>
internal static class Records
{
    public static IProducer<byte[], byte[]> Producer(string bootstrap) =>
        new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, BrokerAddressFamily = BrokerAddressFamily.V4 })
            .SetLogHandler((_, _) => { }).Build();

    /// <summary>The chunk records and (last) the manifest of <paramref name="data"/> sent as <paramref name="path"/>.</summary>
    public static List<Message<byte[], byte[]>> ForFile(string path, byte[] data, int chunkSize, string id = "feedfacefeedfacefeedfacefeedface")
    {
        var key = Encoding.ASCII.GetBytes(id);
        var messages = new List<Message<byte[], byte[]>>();
        var index = 0;
        for (var offset = 0; offset < data.Length; offset += chunkSize, index++)
        {
            var chunk = data.AsSpan(offset, Math.Min(chunkSize, data.Length - offset)).ToArray();
            messages.Add(Message(key, chunk, FileRecordCodec.ChunkHeaders(path, data.Length, 0, 0x1A4, "hand", index, offset, chunk.Length, SHA256.HashData(chunk))));
        }
        messages.Add(Message(key, [], FileRecordCodec.ManifestHeaders(path, data.Length, 0, 0x1A4, "hand", index, SHA256.HashData(data))));
        return messages;
    }

    private static Message<byte[], byte[]> Message(byte[] key, byte[] value, List<EdgeStream.Records.RecordHeader> headers)
    {
        var h = new Headers();
        foreach (var header in headers) h.Add(header.Key, header.Value!.Value.ToArray());
        return new Message<byte[], byte[]> { Key = key, Value = value, Headers = h };
    }
}
