namespace EdgeStream.Metadata;

/// <summary>A topic as the node remembers it: name, partition count and per-topic config overrides.</summary>
public sealed record StoredTopic(string Name, int Partitions, IReadOnlyDictionary<string, string> Config);
