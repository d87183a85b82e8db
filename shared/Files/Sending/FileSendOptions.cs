namespace EdgeStream.Files.Sending;

/// <summary>How <see cref="FileSender"/> sends. Defaults suit a local edge and any Kafka broker.</summary>
public sealed class FileSendOptions
{
    public const int DefaultChunkSize = 512 * 1024;
    public const string DefaultTopic = "files";
    /// <summary>uplink.priority of a files topic the sender creates: below event topics (0), so events drain first.</summary>
    public const int DefaultUplinkPriority = -10;

    /// <summary>Topic the chunks go to. Default <c>files</c>.</summary>
    public string Topic { get; init; } = DefaultTopic;

    /// <summary>Bytes per chunk record (4 KiB to 16 MiB); lowered to fit the topic's max.message.bytes. Default 512 KiB.</summary>
    public int ChunkSize { get; init; } = DefaultChunkSize;

    /// <summary>Produce requests in flight at once (1-64). Memory is about 2 x window x chunk size. Default 8.</summary>
    public int Window { get; init; } = 8;

    /// <summary>Where the per-file send state lives (<see cref="SendStateStore.DefaultDirectory"/>).</summary>
    public string StateDirectory { get; init; } = SendStateStore.DefaultDirectory();

    /// <summary>Sent in <c>file.host</c> (and part of the file id): the origin where the log has no origin node.</summary>
    public string Host { get; init; } = Environment.MachineName;

    /// <summary>Connection failures retried in a row before the run gives up on what is left. Default 5.</summary>
    public int MaxAttempts { get; init; } = 5;

    internal void Validate()
    {
        if (ChunkSize is < 4096 or > 16 * 1024 * 1024) throw new FilesException($"the chunk size must be from 4KiB to 16MiB, not {ChunkSize} bytes");
        if (Window is < 1 or > 64) throw new FilesException($"the window must be from 1 to 64 requests, not {Window}");
        if (MaxAttempts < 1) throw new FilesException("MaxAttempts must be at least 1");
    }
}
