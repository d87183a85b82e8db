namespace EdgeStream.Mqtt.Persistence;

/// <summary>Where a message is in the log: what a persistent session's replay cursor counts in.</summary>
public readonly record struct LogPosition(string Topic, int Partition, long Offset);
