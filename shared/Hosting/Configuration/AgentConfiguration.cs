using System.Collections;
using System.Text.Json;

namespace EdgeStream.Hosting.Configuration;

/// <summary>
/// Turns command-line flags, <c>EDGESTREAM_*</c> environment variables and the optional JSON
/// config file into one validated <see cref="AgentOptions"/>. Precedence for each setting:
/// flag &gt; environment variable &gt; config file &gt; default. Every error is a
/// <see cref="ConfigurationException"/> naming the setting and where its value came from.
/// </summary>
public static class AgentConfiguration
{
    /// <summary>Resolves the options.</summary>
    /// <param name="flags">Values given on the command line, keyed by <see cref="SettingDescriptor.Name"/>.</param>
    /// <param name="environment">Environment variables (only <c>EDGESTREAM_*</c> ones are read).</param>
    /// <param name="workingDirectory">Base for relative paths; the current directory when null.</param>
    public static AgentOptions Resolve(
        IReadOnlyDictionary<string, IReadOnlyList<string>> flags,
        IReadOnlyDictionary<string, string> environment,
        string? workingDirectory = null)
    {
        var cwd = workingDirectory ?? Directory.GetCurrentDirectory();
        var builder = new AgentOptionsBuilder();

        // The config file's own location comes from a flag or the environment, never from itself.
        var configValues = Lookup(AgentSettings.Config, flags, environment, fileValues: null, out var configSource);
        Dictionary<string, IReadOnlyList<string>>? fileValues = null;
        string? configPath = null;
        if (configValues is not null)
        {
            configPath = Path.GetFullPath(configValues[^1], cwd);
            fileValues = ReadConfigFile(configPath, configSource.Describe(AgentSettings.Config));
            configSource = configSource with { File = configPath };
        }

        foreach (var setting in AgentSettings.All)
        {
            var values = Lookup(setting, flags, environment, fileValues, out var source);
            if (source.Kind == SettingSourceKind.ConfigFile) source = source with { File = configPath };
            if (values is null)
            {
                if (setting.DefaultValue is null) continue;
                values = [setting.DefaultValue];
                source = new SettingSource(SettingSourceKind.Default);
            }
            builder.Sources[setting.Name] = source;
            try
            {
                setting.Apply(builder, values);
            }
            catch (FormatException ex)
            {
                var shown = setting.Redact(setting.IsList ? string.Join(",", values) : values[^1]);
                throw new ConfigurationException(
                    $"invalid {setting.Name} value '{shown}' from {source.Describe(setting)}: {ex.Message}.");
            }
        }
        builder.ConfigFile = configPath;
        return builder.Build(cwd);
    }

    /// <summary>The process's <c>EDGESTREAM_*</c> environment variables.</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && key.StartsWith("EDGESTREAM_", StringComparison.Ordinal) && entry.Value is string value)
                result[key] = value;
        }
        return result;
    }

    private static IReadOnlyList<string>? Lookup(
        SettingDescriptor setting,
        IReadOnlyDictionary<string, IReadOnlyList<string>> flags,
        IReadOnlyDictionary<string, string> environment,
        Dictionary<string, IReadOnlyList<string>>? fileValues,
        out SettingSource source)
    {
        if (flags.TryGetValue(setting.Name, out var fromFlag) && fromFlag.Count > 0)
        {
            source = new SettingSource(SettingSourceKind.Flag);
            return fromFlag;
        }
        // An empty variable counts as unset (the usual compose-file idiom for "not given").
        if (environment.TryGetValue(setting.EnvironmentVariable, out var fromEnv) && !string.IsNullOrWhiteSpace(fromEnv))
        {
            source = new SettingSource(SettingSourceKind.Environment);
            if (!setting.IsList) return [fromEnv];
            var items = fromEnv.Split(setting.EnvironmentSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return items;
        }
        if (fileValues is not null && setting.JsonKey is not null && fileValues.TryGetValue(setting.JsonKey, out var fromFile))
        {
            source = new SettingSource(SettingSourceKind.ConfigFile);
            return fromFile;
        }
        source = new SettingSource(SettingSourceKind.Default);
        return null;
    }

    private static Dictionary<string, IReadOnlyList<string>> ReadConfigFile(string path, string origin)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"config file '{path}' (from {origin}) cannot be read: {ex.Message}");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"config file '{path}' is not valid JSON: {ex.Message}");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ConfigurationException($"config file '{path}' must hold one JSON object, e.g. {{ \"role\": \"edge\" }}.");

            var byKey = new Dictionary<string, SettingDescriptor>(StringComparer.Ordinal);
            foreach (var s in AgentSettings.All)
            {
                if (s.JsonKey is not null) byKey[s.JsonKey] = s;
            }

            var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!byKey.TryGetValue(property.Name, out var setting))
                    throw new ConfigurationException(UnknownKeyMessage(path, property.Name, byKey.Keys));
                if (property.Value.ValueKind == JsonValueKind.Null) continue;

                if (property.Value.ValueKind == JsonValueKind.Array)
                {
                    if (!setting.IsList)
                        throw new ConfigurationException($"config file '{path}', key \"{property.Name}\": expected a single value, not an array.");
                    var items = new List<string>();
                    foreach (var item in property.Value.EnumerateArray())
                        items.Add(Scalar(path, property.Name, item));
                    result[property.Name] = items;
                }
                else
                {
                    result[property.Name] = [Scalar(path, property.Name, property.Value)];
                }
            }
            return result;
        }
    }

    private static string Scalar(string path, string key, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new ConfigurationException($"config file '{path}', key \"{key}\": expected a string or a number, not {value.ValueKind.ToString().ToLowerInvariant()}."),
    };

    private static string UnknownKeyMessage(string path, string key, IEnumerable<string> known)
    {
        foreach (var k in known)
        {
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase))
                return $"config file '{path}': unknown key \"{key}\" (did you mean \"{k}\"? keys are camelCase).";
        }
        return $"config file '{path}': unknown key \"{key}\"; known keys: {string.Join(", ", known)}.";
    }
}
