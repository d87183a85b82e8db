using System.Text;
using System.Text.Json;

namespace EdgeStream.KafkaCodegen;

/// <summary>An inclusive version range; "none" is empty (Min > Max).</summary>
public readonly record struct Versions(short Min, short Max)
{
    public static readonly Versions None = new(1, 0);
    public bool IsEmpty => Min > Max;
    public bool Contains(short v) => v >= Min && v <= Max;
    public bool ContainsAll(Versions other) => other.IsEmpty || (Min <= other.Min && Max >= other.Max);
    public Versions Intersect(Versions o) => new(Math.Max(Min, o.Min), Math.Min(Max, o.Max));

    public static Versions Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text == "none") return None;
        if (text.EndsWith('+')) return new(short.Parse(text[..^1]), short.MaxValue);
        var dash = text.IndexOf('-');
        if (dash > 0) return new(short.Parse(text[..dash]), short.Parse(text[(dash + 1)..]));
        var v = short.Parse(text);
        return new(v, v);
    }
}

public sealed class SpecField
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public required string Versions { get; init; }
    public string? NullableVersions { get; init; }
    public string? TaggedVersions { get; init; }
    public int? Tag { get; init; }
    public string? Default { get; init; }
    public bool Ignorable { get; init; }
    public bool MapKey { get; init; }
    public string? FlexibleVersions { get; init; }
    public List<SpecField>? Fields { get; init; }
}

public sealed class SpecStruct
{
    public required string Name { get; init; }
    public required string Versions { get; init; }
    public required List<SpecField> Fields { get; init; }
}

public sealed class SpecMessage
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public int? ApiKey { get; init; }
    public List<string> Listeners { get; init; } = [];
    public required string ValidVersions { get; init; }
    public required string FlexibleVersions { get; init; }
    public bool LatestVersionUnstable { get; init; }
    public required List<SpecField> Fields { get; init; }
    public List<SpecStruct> CommonStructs { get; init; } = [];
}

/// <summary>
/// Step 1: reads the official Kafka JSON message specs and writes only the facts a codec needs
/// (names, types, versions, tags, defaults) to one JSON file that is committed in the repository.
/// Documentation text and comments are deliberately dropped.
/// </summary>
public static class SpecExtractor
{
    private static readonly JsonDocumentOptions s_options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Data (non-RPC) structures the project needs besides the broker APIs.</summary>
    private static readonly string[] s_dataMessages = ["ConsumerProtocolAssignment", "ConsumerProtocolSubscription"];

    public static int Extract(string specDir, string outputPath)
    {
        var all = new List<SpecMessage>();
        foreach (var file in Directory.GetFiles(specDir, "*.json"))
            all.Add(ParseFile(file));

        // Requests served by a broker, the responses with the same api key, and the data structs we use.
        var brokerKeys = new HashSet<int>();
        foreach (var m in all)
            if (m.Type == "request" && m.ApiKey is { } k && m.Listeners.Contains("broker"))
                brokerKeys.Add(k);
        var selected = new List<SpecMessage>();
        foreach (var m in all)
        {
            if ((m.Type is "request" or "response") && m.ApiKey is { } k && brokerKeys.Contains(k))
                selected.Add(m);
            else if (m.Type == "data" && Array.IndexOf(s_dataMessages, m.Name) >= 0)
                selected.Add(m);
        }
        selected.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("source", "Apache Kafka clients/src/main/resources/common/message (facts only; regenerate with the extract command)");
            w.WriteStartArray("messages");
            foreach (var m in selected) WriteMessage(w, m);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
        File.WriteAllBytes(outputPath, stream.ToArray());
        return selected.Count;
    }

    public static List<SpecMessage> Load(string extractPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(extractPath), s_options);
        var result = new List<SpecMessage>();
        foreach (var m in doc.RootElement.GetProperty("messages").EnumerateArray())
            result.Add(ParseMessage(m));
        return result;
    }

    private static SpecMessage ParseFile(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path), s_options);
        return ParseMessage(doc.RootElement);
    }

    /// <summary>
    /// The value of a property; when a spec repeats a key (a few do), the last one wins, as with the
    /// Jackson parser Kafka's own generator uses.
    /// </summary>
    private static JsonElement? Get(JsonElement o, string name)
    {
        JsonElement? found = null;
        foreach (var p in o.EnumerateObject())
            if (p.NameEquals(name)) found = p.Value;
        return found;
    }

    private static string Req(JsonElement o, string name) =>
        Get(o, name)?.GetString() ?? throw new InvalidDataException($"missing '{name}'");

    private static SpecMessage ParseMessage(JsonElement o)
    {
        var listeners = new List<string>();
        if (Get(o, "listeners") is { } ls)
            foreach (var l in ls.EnumerateArray()) listeners.Add(l.GetString()!);
        var structs = new List<SpecStruct>();
        if (Get(o, "commonStructs") is { } cs)
            foreach (var s in cs.EnumerateArray())
                structs.Add(new SpecStruct
                {
                    Name = Req(s, "name"),
                    Versions = Req(s, "versions"),
                    Fields = ParseFields(Get(s, "fields")!.Value),
                });
        return new SpecMessage
        {
            Name = Req(o, "name"),
            Type = Req(o, "type"),
            ApiKey = Int(Get(o, "apiKey")),
            Listeners = listeners,
            ValidVersions = Req(o, "validVersions"),
            FlexibleVersions = Req(o, "flexibleVersions"),
            LatestVersionUnstable = Get(o, "latestVersionUnstable")?.ValueKind == JsonValueKind.True,
            Fields = ParseFields(Get(o, "fields")!.Value),
            CommonStructs = structs,
        };
    }

    private static List<SpecField> ParseFields(JsonElement array)
    {
        var result = new List<SpecField>();
        foreach (var f in array.EnumerateArray())
        {
            result.Add(new SpecField
            {
                Name = Req(f, "name"),
                Type = Req(f, "type"),
                Versions = Req(f, "versions"),
                NullableVersions = Str(Get(f, "nullableVersions")),
                TaggedVersions = Str(Get(f, "taggedVersions")),
                Tag = Int(Get(f, "tag")),
                Default = Str(Get(f, "default")),
                Ignorable = Get(f, "ignorable")?.ValueKind == JsonValueKind.True,
                MapKey = Get(f, "mapKey")?.ValueKind == JsonValueKind.True,
                FlexibleVersions = Str(Get(f, "flexibleVersions")),
                Fields = Get(f, "fields") is { } nested ? ParseFields(nested) : null,
            });
        }
        return result;
    }

    private static int? Int(JsonElement? e) => e switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => int.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
        { } v => v.GetInt32(),
    };

    /// <summary>Defaults appear as strings, numbers or booleans in the specs; keep their text.</summary>
    private static string? Str(JsonElement? e) => e switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.True } => "true",
        { ValueKind: JsonValueKind.False } => "false",
        { } v => v.GetRawText(),
    };

    private static void WriteMessage(Utf8JsonWriter w, SpecMessage m)
    {
        w.WriteStartObject();
        if (m.ApiKey is { } k) w.WriteNumber("apiKey", k);
        w.WriteString("type", m.Type);
        w.WriteString("name", m.Name);
        if (m.Listeners.Count > 0)
        {
            w.WriteStartArray("listeners");
            foreach (var l in m.Listeners) w.WriteStringValue(l);
            w.WriteEndArray();
        }
        w.WriteString("validVersions", m.ValidVersions);
        w.WriteString("flexibleVersions", m.FlexibleVersions);
        if (m.LatestVersionUnstable) w.WriteBoolean("latestVersionUnstable", true);
        WriteFields(w, m.Fields);
        if (m.CommonStructs.Count > 0)
        {
            w.WriteStartArray("commonStructs");
            foreach (var s in m.CommonStructs)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteString("versions", s.Versions);
                WriteFields(w, s.Fields);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteFields(Utf8JsonWriter w, List<SpecField> fields)
    {
        w.WriteStartArray("fields");
        foreach (var f in fields)
        {
            w.WriteStartObject();
            w.WriteString("name", f.Name);
            w.WriteString("type", f.Type);
            w.WriteString("versions", f.Versions);
            if (f.NullableVersions is not null) w.WriteString("nullableVersions", f.NullableVersions);
            if (f.TaggedVersions is not null) w.WriteString("taggedVersions", f.TaggedVersions);
            if (f.Tag is { } tag) w.WriteNumber("tag", tag);
            if (f.Default is not null) w.WriteString("default", f.Default);
            if (f.Ignorable) w.WriteBoolean("ignorable", true);
            if (f.MapKey) w.WriteBoolean("mapKey", true);
            if (f.FlexibleVersions is not null) w.WriteString("flexibleVersions", f.FlexibleVersions);
            if (f.Fields is not null) WriteFields(w, f.Fields);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
