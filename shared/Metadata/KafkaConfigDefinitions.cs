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

/// <summary>One of Kafka's documented configs, as its reference gives it.</summary>
/// <param name="Name">The config name.</param>
/// <param name="Type">Kafka's type of the value.</param>
/// <param name="Default">Kafka's default; null when Kafka has none.</param>
/// <param name="ValidValues">The reference's "valid values" (see kafka-configs.txt); empty when any value of the type is.</param>
/// <param name="BrokerSynonym">For a topic config, the broker setting a topic inherits it from, when Kafka has one.</param>
public sealed record KafkaConfigDefinition(string Name, ConfigValueType Type, string? Default, string ValidValues, string? BrokerSynonym)
{
    /// <summary>Kafka hides the value of a password config and flags it sensitive.</summary>
    public bool IsSensitive => Type == ConfigValueType.Password;

    /// <summary>Null for a valid value, else Kafka's reason (the text after "Invalid value V for configuration K: ").</summary>
    public string? Check(string value) => KafkaConfigValidation.Check(this, value);
}

/// <summary>
/// Kafka's documented topic and broker configs, read from the facts table kafka-configs.txt
/// (embedded): the one place their names, types, defaults and ranges are written down.
/// </summary>
public static class KafkaConfigDefinitions
{
    public static IReadOnlyList<KafkaConfigDefinition> Topic { get; }
    public static IReadOnlyList<KafkaConfigDefinition> Broker { get; }

    private static readonly Dictionary<string, KafkaConfigDefinition> s_topic;
    private static readonly Dictionary<string, KafkaConfigDefinition> s_broker;

    static KafkaConfigDefinitions()
    {
        using var stream = typeof(KafkaConfigDefinitions).Assembly.GetManifestResourceStream("EdgeStream.Metadata.kafka-configs.txt")
            ?? throw new InvalidOperationException("The embedded Kafka config table is missing from the build.");
        using var reader = new StreamReader(stream);
        (Topic, Broker) = Parse(reader.ReadToEnd());
        s_topic = Topic.ToDictionary(d => d.Name, StringComparer.Ordinal);
        s_broker = Broker.ToDictionary(d => d.Name, StringComparer.Ordinal);
    }

    public static bool TryGetTopic(string name, out KafkaConfigDefinition definition) => s_topic.TryGetValue(name, out definition!);

    public static bool TryGetBroker(string name, out KafkaConfigDefinition definition) => s_broker.TryGetValue(name, out definition!);

    /// <summary>Kafka's message for a bad value: <c>Invalid value V for configuration K: reason</c>.</summary>
    public static string InvalidValue(string name, string value, string reason) => $"Invalid value {value} for configuration {name}: {reason}";

    // Grammar of the table: '#' comments, "[topic]" / "[broker]" section lines, and rows
    // "name | type | default | valid values [| broker synonym]" with cells trimmed.
    internal static (List<KafkaConfigDefinition> Topic, List<KafkaConfigDefinition> Broker) Parse(string text)
    {
        var topic = new List<KafkaConfigDefinition>();
        var broker = new List<KafkaConfigDefinition>();
        List<KafkaConfigDefinition>? section = null;
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line is "[topic]") { section = topic; continue; }
            if (line is "[broker]") { section = broker; continue; }
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (section is null || cells.Length is < 3 or > 5)
                throw new FormatException($"kafka-configs.txt line {lineNumber}: expected 'name | type | default | valid values [| synonym]' in a section.");
            section.Add(new KafkaConfigDefinition(
                cells[0],
                ParseType(cells[1], lineNumber),
                cells[2] switch { "null" => null, "\"\"" => "", var v => v },
                cells.Length > 3 ? cells[3] : "",
                cells.Length > 4 && cells[4].Length > 0 ? cells[4] : null));
        }
        return (topic, broker);
    }

    private static ConfigValueType ParseType(string text, int lineNumber) => text switch
    {
        "boolean" => ConfigValueType.Boolean,
        "string" => ConfigValueType.String,
        "int" => ConfigValueType.Int,
        "short" => ConfigValueType.Short,
        "long" => ConfigValueType.Long,
        "double" => ConfigValueType.Double,
        "list" => ConfigValueType.List,
        "class" => ConfigValueType.Class,
        "password" => ConfigValueType.Password,
        _ => throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"kafka-configs.txt line {lineNumber}: unknown type '{text}'.")),
    };
}
