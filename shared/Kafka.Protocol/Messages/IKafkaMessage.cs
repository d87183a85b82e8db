using System.Buffers;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Protocol.Messages;

/// <summary>A generated message or struct: reads and writes itself for a given version.</summary>
public interface IKafkaMessage
{
    /// <summary>Reads the fields of <paramref name="version"/> into a freshly constructed instance.</summary>
    void Read(ref KafkaReader reader, short version);

    /// <summary>Writes the fields of <paramref name="version"/>; fields the version lacks are left out.</summary>
    void Write(ref KafkaWriter writer, short version);
}

/// <summary>A request or response body of one Kafka API.</summary>
public interface IKafkaApiMessage : IKafkaMessage
{
    ApiKey MessageApiKey { get; }
}

public static class KafkaMessageExtensions
{
    /// <summary>Writes <paramref name="message"/> to <paramref name="output"/> and flushes.</summary>
    public static void WriteTo(this IKafkaMessage message, IBufferWriter<byte> output, short version)
    {
        var writer = new KafkaWriter(output);
        message.Write(ref writer, version);
        writer.Flush();
    }

    /// <summary>Serializes <paramref name="message"/> into a new array (tests, tools; not for hot paths).</summary>
    public static byte[] ToArray(this IKafkaMessage message, short version)
    {
        var buffer = new ArrayBufferWriter<byte>();
        message.WriteTo(buffer, version);
        return buffer.WrittenSpan.ToArray();
    }
}

public static class KafkaMessage
{
    /// <summary>Reads a <typeparamref name="T"/> of <paramref name="version"/> that fills all of <paramref name="buffer"/>.</summary>
    public static T Parse<T>(ReadOnlySequence<byte> buffer, short version) where T : IKafkaMessage, new()
    {
        var reader = new KafkaReader(buffer);
        var message = new T();
        message.Read(ref reader, version);
        if (!reader.End) KafkaThrow.Invalid($"{typeof(T).Name} v{version}: {reader.Remaining} trailing bytes");
        return message;
    }

    public static T Parse<T>(ReadOnlyMemory<byte> buffer, short version) where T : IKafkaMessage, new() =>
        Parse<T>(new ReadOnlySequence<byte>(buffer), version);
}
