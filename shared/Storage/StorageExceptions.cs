using EdgeStream.Records;

namespace EdgeStream.Storage;

/// <summary>Root of the storage library's exceptions.</summary>
public class StorageException : EdgeStreamException
{
    public StorageException(string message) : base(message) { }
    public StorageException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The node's disk budget (--max-disk) or the disk itself is full. Nothing of the refused append
/// was kept; everything acknowledged before it is intact. Kafka maps this to KAFKA_STORAGE_ERROR,
/// MQTT to reason code 0x97 (quota exceeded).
/// </summary>
public sealed class DiskFullException : StorageException
{
    public DiskFullException(string message) : base(message) { }
    public DiskFullException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A produce carried a batch that does not validate (CORRUPT_MESSAGE in Kafka terms).</summary>
public sealed class InvalidBatchException : StorageException
{
    public BatchValidation Reason { get; }
    public InvalidBatchException(BatchValidation reason, string message) : base(message) => Reason = reason;
}

/// <summary>A batch is larger than the topic's max.message.bytes (MESSAGE_TOO_LARGE).</summary>
public sealed class MessageTooLargeException : StorageException
{
    public MessageTooLargeException(string message) : base(message) { }
}

/// <summary>A read asked for an offset outside [log start, high watermark] (OFFSET_OUT_OF_RANGE).</summary>
public sealed class OffsetOutOfRangeException : StorageException
{
    public OffsetOutOfRangeException(string message) : base(message) { }
}

/// <summary>A topic or partition does not exist (UNKNOWN_TOPIC_OR_PARTITION).</summary>
public sealed class UnknownTopicException : StorageException
{
    public UnknownTopicException(string message) : base(message) { }
}

/// <summary>Thrown by <see cref="LogManager.CreateTopic"/> for a name already in use (TOPIC_ALREADY_EXISTS).</summary>
public sealed class TopicAlreadyExistsException : StorageException
{
    public TopicAlreadyExistsException(string message) : base(message) { }
}
