using EdgeStream.Storage;

namespace EdgeStream.Mqtt;

/// <summary>One <c>--mqtt-map FILTER=TOPIC</c> rule: PUBLISHes matching the MQTT topic filter go to the log topic.</summary>
public sealed record MqttMapRule(string Filter, string LogTopic)
{
    /// <summary>
    /// Parses <c>FILTER=TOPIC</c>. The split is at the last '=' (a log topic name has none).
    /// Throws <see cref="FormatException"/> with the reason when either half is invalid.
    /// </summary>
    public static MqttMapRule Parse(string text)
    {
        var s = text.Trim();
        var eq = s.LastIndexOf('=');
        if (eq <= 0 || eq == s.Length - 1)
            throw new FormatException($"expected FILTER=TOPIC, e.g. 'factory/+/telemetry/#=telemetry', got '{text}'");
        var filter = s[..eq];
        var topic = s[(eq + 1)..];
        if (MqttTopicFilter.Validate(filter) is { } error)
            throw new FormatException($"invalid MQTT topic filter '{filter}': {error}");
        if (!LogManager.IsValidTopicName(topic))
            throw new FormatException($"invalid log topic name '{topic}': expected 1-249 of a-z A-Z 0-9 . _ -");
        return new MqttMapRule(filter, topic);
    }

    public override string ToString() => $"{Filter}={LogTopic}";
}

/// <summary>
/// The ordered <c>--mqtt-map</c> rules: the first matching filter names the log topic; an implicit
/// last rule <c>#=mqtt</c> catches everything else (so no rules = the zero-config default).
/// </summary>
public sealed class MqttTopicMap
{
    private readonly MqttMapRule[] _rules;

    public MqttTopicMap(IEnumerable<MqttMapRule>? rules = null)
    {
        Explicit = [.. rules ?? []];
        _rules = [.. Explicit, Default];
    }

    public static MqttMapRule Default { get; } = new("#", MqttBridgeOptions.DefaultLogTopic);

    /// <summary>The configured rules, without the implicit default.</summary>
    public IReadOnlyList<MqttMapRule> Explicit { get; }

    /// <summary>Every rule in match order, the implicit default last.</summary>
    public IReadOnlyList<MqttMapRule> Rules => _rules;

    /// <summary>Log topics named by configured rules: Kafka records in these go out to MQTT subscribers.</summary>
    public IReadOnlyList<string> MappedLogTopics => [.. Explicit.Select(r => r.LogTopic).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// The log topics the bridge writes messages matching the subscription <paramref name="filter"/>
    /// to: each rule's that some such topic reaches first, up to the first rule covering the whole filter.
    /// </summary>
    public IReadOnlyList<string> LogTopicsFor(string filter)
    {
        var topics = new List<string>();
        foreach (var rule in _rules)
        {
            if (!MqttTopicFilter.Intersects(rule.Filter, filter)) continue;
            if (!topics.Contains(rule.LogTopic)) topics.Add(rule.LogTopic);
            if (MqttTopicFilter.Covers(rule.Filter, filter)) break;
        }
        return topics;
    }

    /// <summary>The log topic for MQTT topic <paramref name="mqttTopic"/>.</summary>
    public string Resolve(string mqttTopic)
    {
        foreach (var rule in _rules)
        {
            if (MqttTopicFilter.Matches(rule.Filter, mqttTopic)) return rule.LogTopic;
        }
        return MqttBridgeOptions.DefaultLogTopic; // '#' matches every topic not starting with '$'
    }
}
