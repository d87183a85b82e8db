using System.Globalization;
using EdgeStream.Storage;

namespace EdgeStream.Metadata;

/// <summary>
/// Maps Kafka's topic config names (retention.ms, segment.bytes, …) to <see cref="TopicConfig"/>.
/// Every key Kafka documents is checked against Kafka's type and range (<see cref="KafkaConfigDefinitions"/>).
/// Implemented keys change behaviour; the rest of Kafka's documented topic configs are accepted,
/// validated and kept (<see cref="AcceptedTopicConfigs"/>) so tools written for Kafka work; anything
/// else is refused.
/// </summary>
public static class TopicConfigKeys
{
    public const string RetentionMs = "retention.ms";
    public const string RetentionBytes = "retention.bytes";
    public const string SegmentBytes = "segment.bytes";
    public const string SegmentMs = "segment.ms";
    public const string MaxMessageBytes = "max.message.bytes";
    public const string CleanupPolicy = "cleanup.policy";
    public const string TimestampType = "message.timestamp.type";
    public const string IndexIntervalBytes = "index.interval.bytes";
    /// <summary>EdgeStream's own: block | drop-oldest (see <see cref="EdgeStream.Storage.DiskFullPolicy"/>).</summary>
    public const string DiskFullPolicy = "disk.full.policy";
    /// <summary>
    /// EdgeStream's own: integer; higher-priority topics drain upstream first. Kept for the uplink in
    /// <see cref="TopicConfig.Settings"/>; also the topic's <see cref="TopicConfig.DropPriority"/>, so that
    /// with drop-oldest what is least urgent upstream gives up space first.
    /// </summary>
    public const string UplinkPriority = "uplink.priority";

    public static IReadOnlyList<string> Implemented { get; } =
        [CleanupPolicy, DiskFullPolicy, IndexIntervalBytes, MaxMessageBytes, TimestampType, RetentionBytes, RetentionMs, SegmentBytes, SegmentMs, UplinkPriority];

    /// <summary>Kafka's wording for a key it does not know (tools match on it).</summary>
    public static string UnknownKeyMessage(string key) => $"Unknown topic config name: {key}";

    // Accepted-only keys are looked up, not cached here: AcceptedTopicConfigs is built from Implemented.
    public static bool IsKnown(string key) => Implemented.Contains(key) || AcceptedTopicConfigs.TryGet(key, out _);

    /// <summary>
    /// Applies explicit overrides on top of <paramref name="defaults"/>; throws <see cref="ConfigurationException"/> naming the bad key.
    /// <paramref name="checkKafkaRanges"/> false skips Kafka's type and range checks, for overrides already
    /// stored: an older version accepted some values Kafka refuses (retention.ms -5 meant forever), and a
    /// node must still start with them.
    /// </summary>
    public static TopicConfig Apply(TopicConfig defaults, IReadOnlyDictionary<string, string> overrides, bool checkKafkaRanges = true)
    {
        var c = defaults;
        foreach (var (key, value) in overrides)
        {
            // Kafka's type and range first, in Kafka's words; EdgeStream's own limits (TopicConfig.Validate) after.
            if (checkKafkaRanges && KafkaConfigDefinitions.TryGetTopic(key, out var kafka) && kafka.Check(value) is { } invalid)
                throw new ConfigurationException(KafkaConfigDefinitions.InvalidValue(key, value, invalid));
            c = key switch
            {
                RetentionMs => c with { RetentionAge = ParseLong(key, value) is var ms && ms < 0 ? null : TimeSpan.FromMilliseconds(ms) },
                RetentionBytes => c with { RetentionBytes = ParseLong(key, value) is var b && b < 0 ? -1 : b },
                SegmentBytes => c with { SegmentBytes = ParseLong(key, value) },
                SegmentMs => c with { SegmentAge = TimeSpan.FromMilliseconds(ParseLong(key, value)) },
                MaxMessageBytes => c with { MaxMessageBytes = checked((int)ParseLong(key, value)) },
                IndexIntervalBytes => c with { IndexIntervalBytes = checked((int)ParseLong(key, value)) },
                CleanupPolicy => c with { CleanupPolicy = value },
                DiskFullPolicy => value switch
                {
                    "block" => c with { DiskFullPolicy = EdgeStream.Storage.DiskFullPolicy.Block },
                    "drop-oldest" => c with { DiskFullPolicy = EdgeStream.Storage.DiskFullPolicy.DropOldest },
                    _ => throw new ConfigurationException($"{key}: '{value}' must be block or drop-oldest."),
                },
                UplinkPriority => WithUplinkPriority(c, checked((int)ParseLong(key, value))),
                TimestampType => value switch
                {
                    "CreateTime" => c with { UseLogAppendTime = false },
                    "LogAppendTime" => c with { UseLogAppendTime = true },
                    _ => throw new ConfigurationException(KafkaConfigDefinitions.InvalidValue(key, value, "String must be one of: CreateTime, LogAppendTime")),
                },
                _ when AcceptedTopicConfigs.TryGet(key, out _) => c,
                _ => throw new ConfigurationException(UnknownKeyMessage(key)),
            };
        }
        c.Validate();
        return c;
    }

    /// <summary>The effective value of every implemented key, as Kafka's DescribeConfigs shows them.</summary>
    public static IEnumerable<(string Key, string Value)> Describe(TopicConfig c)
    {
        yield return (CleanupPolicy, c.CleanupPolicy);
        yield return (DiskFullPolicy, c.DiskFullPolicy == EdgeStream.Storage.DiskFullPolicy.DropOldest ? "drop-oldest" : "block");
        yield return (IndexIntervalBytes, Num(c.IndexIntervalBytes));
        yield return (MaxMessageBytes, Num(c.MaxMessageBytes));
        yield return (TimestampType, c.UseLogAppendTime ? "LogAppendTime" : "CreateTime");
        yield return (RetentionBytes, Num(c.RetentionBytes));
        yield return (RetentionMs, c.RetentionAge is { } age ? Num((long)age.TotalMilliseconds) : "-1");
        yield return (SegmentBytes, Num(c.SegmentBytes));
        yield return (SegmentMs, Num((long)c.SegmentAge.TotalMilliseconds));
        yield return (UplinkPriority, Num(UplinkPriorityOf(c)));
    }

    /// <summary>The topic's uplink.priority (0 unless set).</summary>
    public static int UplinkPriorityOf(TopicConfig c) =>
        c.Settings.TryGetValue(UplinkPriority, out var text) && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static TopicConfig WithUplinkPriority(TopicConfig c, int priority)
    {
        var settings = new Dictionary<string, string>(c.Settings, StringComparer.Ordinal) { [UplinkPriority] = Num(priority) };
        return c with { DropPriority = priority, Settings = settings };
    }

    private static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static long ParseLong(string key, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ConfigurationException(KafkaConfigDefinitions.InvalidValue(key, value, "Not a number of type LONG"));
}
