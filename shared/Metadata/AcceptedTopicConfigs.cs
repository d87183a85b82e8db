using System.Globalization;

namespace EdgeStream.Metadata;

/// <summary>The value type of a config entry, as Kafka's DescribeConfigs v3+ reports it (KIP-569).</summary>
public enum ConfigValueType : sbyte
{
    Unknown = 0,
    Boolean = 1,
    String = 2,
    Int = 3,
    Short = 4,
    Long = 5,
    Double = 6,
    List = 7,
    Class = 8,
    Password = 9,
}

/// <summary>
/// A Kafka topic config that EdgeStream accepts, validates and reports but that has no effect on a
/// single-replica log (flush.ms, min.insync.replicas, the compaction and tiered-storage keys…).
/// Tools written for Kafka read and write the whole documented set; they get Kafka's default,
/// Kafka's type and Kafka's validation, with Kafka's wording in the error.
/// </summary>
/// <param name="Key">The topic config name.</param>
/// <param name="Default">Kafka's default, as DescribeConfigs shows it.</param>
/// <param name="Type">Kafka's type of the value.</param>
/// <param name="BrokerSynonym">The broker setting a topic inherits the value from, when Kafka has one.</param>
/// <param name="Validate">Null for a valid value, else the reason (Kafka's wording, after "Invalid value V for configuration K: ").</param>
/// <param name="Documentation">What the key does in Kafka and what it does here.</param>
public sealed record AcceptedTopicConfig(string Key, string Default, ConfigValueType Type, string? BrokerSynonym, Func<string, string?> Validate, string Documentation);

/// <summary>Kafka's topic configs EdgeStream accepts without acting on them (defaults and ranges from Kafka's topic config documentation).</summary>
public static class AcceptedTopicConfigs
{
    private const string NoEffect = "Accepted and kept for Kafka tools; no effect on a single-replica EdgeStream log.";
    private const string LongMax = "9223372036854775807";

    public static IReadOnlyList<AcceptedTopicConfig> All { get; } =
    [
        new("compression.type", "producer", ConfigValueType.String, "compression.type",
            OneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"), "Final compression of the topic's batches in Kafka; EdgeStream stores batches as the producer compressed them."),
        new("compression.gzip.level", "-1", ConfigValueType.Int, "compression.gzip.level", IntInOrMinusOne(1, 9), NoEffect),
        new("compression.lz4.level", "9", ConfigValueType.Int, "compression.lz4.level", Int(1, 17), NoEffect),
        new("compression.zstd.level", "3", ConfigValueType.Int, "compression.zstd.level", Int(-131072, 22), NoEffect),
        new("delete.retention.ms", "86400000", ConfigValueType.Long, "log.cleaner.delete.retention.ms", Long(0), NoEffect),
        new("file.delete.delay.ms", "60000", ConfigValueType.Long, "log.segment.delete.delay.ms", Long(0), NoEffect),
        new("flush.messages", LongMax, ConfigValueType.Long, "log.flush.interval.messages", Long(1), "Kafka's fsync interval in messages; EdgeStream's durability is the node's --fsync policy."),
        new("flush.ms", LongMax, ConfigValueType.Long, "log.flush.interval.ms", Long(0), "Kafka's fsync interval in time; EdgeStream's durability is the node's --fsync policy."),
        new("follower.replication.throttled.replicas", "", ConfigValueType.List, null, ThrottledReplicas, NoEffect),
        new("leader.replication.throttled.replicas", "", ConfigValueType.List, null, ThrottledReplicas, NoEffect),
        new("local.retention.bytes", "-2", ConfigValueType.Long, "log.local.retention.bytes", Long(-2), NoEffect),
        new("local.retention.ms", "-2", ConfigValueType.Long, "log.local.retention.ms", Long(-2), NoEffect),
        new("max.compaction.lag.ms", LongMax, ConfigValueType.Long, "log.cleaner.max.compaction.lag.ms", Long(1), NoEffect),
        new("message.downconversion.enable", "true", ConfigValueType.Boolean, "log.message.downconversion.enable", Bool, NoEffect),
        new("message.timestamp.after.max.ms", LongMax, ConfigValueType.Long, "log.message.timestamp.after.max.ms", Long(0), NoEffect),
        new("message.timestamp.before.max.ms", LongMax, ConfigValueType.Long, "log.message.timestamp.before.max.ms", Long(0), NoEffect),
        new("message.timestamp.difference.max.ms", LongMax, ConfigValueType.Long, "log.message.timestamp.difference.max.ms", Long(0), NoEffect),
        new("min.cleanable.dirty.ratio", "0.5", ConfigValueType.Double, "log.cleaner.min.cleanable.ratio", Double(0, 1), NoEffect),
        new("min.compaction.lag.ms", "0", ConfigValueType.Long, "log.cleaner.min.compaction.lag.ms", Long(0), NoEffect),
        new("min.insync.replicas", "1", ConfigValueType.Int, "min.insync.replicas", Int(1, int.MaxValue), "Kafka's acks=all quorum; an EdgeStream node is its only replica."),
        new("preallocate", "false", ConfigValueType.Boolean, "log.preallocate", Bool, NoEffect),
        new("remote.log.copy.disable", "false", ConfigValueType.Boolean, null, Bool, NoEffect),
        new("remote.log.delete.on.disable", "false", ConfigValueType.Boolean, null, Bool, NoEffect),
        new("remote.storage.enable", "false", ConfigValueType.Boolean, null, Bool, NoEffect),
        new("segment.index.bytes", "10485760", ConfigValueType.Int, "log.index.size.max.bytes", Int(4, int.MaxValue), NoEffect),
        new("segment.jitter.ms", "0", ConfigValueType.Long, "log.roll.jitter.ms", Long(0), NoEffect),
        new("unclean.leader.election.enable", "false", ConfigValueType.Boolean, "unclean.leader.election.enable", Bool, NoEffect),
    ];

    private static readonly Dictionary<string, AcceptedTopicConfig> s_byKey = All.ToDictionary(c => c.Key, StringComparer.Ordinal);

    public static bool TryGet(string key, out AcceptedTopicConfig config) => s_byKey.TryGetValue(key, out config!);

    /// <summary>Kafka's message for a bad value: <c>Invalid value V for configuration K: reason</c>.</summary>
    public static string InvalidValue(string key, string value, string reason) => $"Invalid value {value} for configuration {key}: {reason}";

    private static Func<string, string?> Long(long min) => v =>
        !long.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? "Not a number of type LONG"
        : n < min ? $"Value must be at least {min.ToString(CultureInfo.InvariantCulture)}" : null;

    private static Func<string, string?> Int(int min, int max) => v =>
        !int.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? "Not a number of type INT"
        : n < min ? $"Value must be at least {min.ToString(CultureInfo.InvariantCulture)}"
        : n > max ? $"Value must be no more than {max.ToString(CultureInfo.InvariantCulture)}" : null;

    private static Func<string, string?> IntInOrMinusOne(int min, int max) => v =>
        int.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n == -1 ? null : Int(min, max)(v);

    private static Func<string, string?> Double(double min, double max) => v =>
        !double.TryParse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d) ? "Not a number of type DOUBLE"
        : d < min ? $"Value must be at least {min.ToString(CultureInfo.InvariantCulture)}"
        : d > max ? $"Value must be no more than {max.ToString(CultureInfo.InvariantCulture)}" : null;

    private static string? Bool(string v) =>
        v.Trim().Equals("true", StringComparison.OrdinalIgnoreCase) || v.Trim().Equals("false", StringComparison.OrdinalIgnoreCase)
            ? null : "Expected value to be either true or false";

    private static Func<string, string?> OneOf(params string[] allowed) => v =>
        Array.IndexOf(allowed, v.Trim()) >= 0 ? null : $"String must be one of: {string.Join(", ", allowed)}";

    /// <summary>Empty, <c>*</c>, or a list of <c>partition:broker</c> pairs.</summary>
    private static string? ThrottledReplicas(string v)
    {
        var text = v.Trim();
        if (text.Length == 0 || text == "*") return null;
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out _)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
                return "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...";
        }
        return null;
    }
}
