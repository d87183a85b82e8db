using System.Buffers;
using EdgeStream.Kafka.Protocol;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Client;

/// <summary>
/// The "consumer" embedded protocol (protocol type <c>consumer</c>): the subscription a member sends in
/// JoinGroup metadata and the assignment the leader hands out in SyncGroup. Each is an INT16 version
/// followed by the versioned body (Kafka's ConsumerProtocol). A newer version than we know is read at
/// the highest we know and its extra fields ignored, as the Java client does.
/// </summary>
public static class ConsumerProtocol
{
    public const string Type = "consumer";

    /// <summary>Subscription v1: topics, user data, owned partitions (no generation/rack: eager "range" needs neither).</summary>
    private const short SubscriptionVersion = 1;
    private const short AssignmentVersion = 1;

    public static byte[] EncodeSubscription(IEnumerable<string> topics)
    {
        var subscription = new ConsumerProtocolSubscription { Topics = [.. topics], UserData = null };
        return Encode(subscription, SubscriptionVersion);
    }

    public static byte[] EncodeAssignment(IReadOnlyDictionary<string, List<int>> partitionsByTopic)
    {
        var assignment = new ConsumerProtocolAssignment { UserData = null };
        foreach (var (topic, partitions) in partitionsByTopic.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            assignment.AssignedPartitions.Add(new ConsumerProtocolAssignment.TopicPartition { Topic = topic, Partitions = [.. partitions.Order()] });
        return Encode(assignment, AssignmentVersion);
    }

    /// <summary>The subscribed topics; throws <see cref="KafkaProtocolException"/> when the bytes are not a subscription.</summary>
    public static ConsumerProtocolSubscription DecodeSubscription(ReadOnlyMemory<byte> bytes) =>
        Decode<ConsumerProtocolSubscription>(bytes, ConsumerProtocolSubscription.HighestSupportedVersion);

    /// <summary>
    /// The assigned partitions, topic by topic. Empty bytes (a member that has not synced yet, or a
    /// SyncGroup answer without an assignment) decode to no partitions.
    /// </summary>
    public static ConsumerProtocolAssignment DecodeAssignment(ReadOnlyMemory<byte> bytes) =>
        bytes.IsEmpty ? new ConsumerProtocolAssignment() : Decode<ConsumerProtocolAssignment>(bytes, ConsumerProtocolAssignment.HighestSupportedVersion);

    private static byte[] Encode(IKafkaMessage message, short version)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(version);
        message.Write(ref writer, version);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static T Decode<T>(ReadOnlyMemory<byte> bytes, short highest) where T : IKafkaMessage, new()
    {
        if (bytes.Length < 2) throw new KafkaProtocolException($"{typeof(T).Name}: {bytes.Length} bytes is too short for a version");
        var reader = new KafkaReader(bytes);
        var version = reader.ReadInt16();
        if (version < 0) throw new KafkaProtocolException($"{typeof(T).Name}: negative version {version}");
        var message = new T();
        // Forward compatible: a newer version starts with the fields of the ones we know; the rest is ignored.
        message.Read(ref reader, Math.Min(version, highest));
        return message;
    }
}
