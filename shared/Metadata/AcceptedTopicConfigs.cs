namespace EdgeStream.Metadata;

/// <summary>
/// Kafka's topic configs that EdgeStream accepts, validates and reports but that have no effect on a
/// single-replica log (flush.ms, min.insync.replicas, the compaction and tiered-storage keys…): every
/// documented topic config that <see cref="TopicConfigKeys"/> does not implement. Tools written for
/// Kafka read and write the whole set; they get Kafka's default, type and validation.
/// </summary>
public static class AcceptedTopicConfigs
{
    public static IReadOnlyList<KafkaConfigDefinition> All { get; } =
        KafkaConfigDefinitions.Topic.Where(d => !TopicConfigKeys.Implemented.Contains(d.Name)).ToList();

    private static readonly Dictionary<string, KafkaConfigDefinition> s_byName = All.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public static bool TryGet(string name, out KafkaConfigDefinition config) => s_byName.TryGetValue(name, out config!);
}
