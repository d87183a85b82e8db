namespace EdgeStream.Mqtt.Core;

/// <summary>What became of a delivery handed to a session's queue.</summary>
internal enum MqttEnqueueOutcome
{
    /// <summary>In the queue.</summary>
    Queued,

    /// <summary>Not log-backed and the queue was full: the oldest such entry (or it) was dropped.</summary>
    Dropped,

    /// <summary>The queue was full: this one and the QoS 1/2 messages after it are read from the log.</summary>
    ToLog,

    /// <summary>The session reads from the log: the reader queues it when its turn comes.</summary>
    FromLog,

    /// <summary>Read from the log already, just before the switch back to live queuing.</summary>
    Duplicate,
}
