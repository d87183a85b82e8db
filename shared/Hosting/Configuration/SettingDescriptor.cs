namespace EdgeStream.Hosting.Configuration;

/// <summary>
/// One agent setting and every place it can come from: a command-line flag, an
/// <c>EDGESTREAM_*</c> environment variable and a key of the JSON config file.
/// The whole list is <see cref="AgentSettings.All"/>; the command line, the help text,
/// the resolver and the README are all driven by it.
/// </summary>
public abstract class SettingDescriptor
{
    private protected SettingDescriptor(string name, string flag, string environmentVariable, string? jsonKey,
        string valueName, string? defaultValue, string? defaultHelp, string description)
    {
        Name = name;
        Flag = flag;
        EnvironmentVariable = environmentVariable;
        JsonKey = jsonKey;
        ValueName = valueName;
        DefaultValue = defaultValue;
        DefaultHelp = defaultHelp ?? defaultValue ?? "(none)";
        Description = description;
    }

    /// <summary>The setting's name in messages (camelCase, as in the config file).</summary>
    public string Name { get; }
    /// <summary>The command-line flag, e.g. <c>--node-id</c>.</summary>
    public string Flag { get; }
    /// <summary>The environment variable, e.g. <c>EDGESTREAM_NODE_ID</c>. Lists are comma-separated.</summary>
    public string EnvironmentVariable { get; }
    /// <summary>The JSON config file key, or null when the setting cannot come from the file.</summary>
    public string? JsonKey { get; }
    /// <summary>The placeholder shown in help, e.g. <c>HOST:PORT</c>.</summary>
    public string ValueName { get; }
    /// <summary>The default as text, parsed by the same parser as any other value; null when there is none.</summary>
    public string? DefaultValue { get; }
    /// <summary>The default as shown in help and the README.</summary>
    public string DefaultHelp { get; }
    public string Description { get; }
    /// <summary>True when the setting takes several values (a repeated flag, a JSON array, a comma-separated variable).</summary>
    public abstract bool IsList { get; }
    /// <summary>True for on/off flags that take no value on the command line.</summary>
    public virtual bool IsSwitch => false;
    /// <summary>Hides secrets in values shown in messages; null shows values as they are.</summary>
    internal Func<string, string>? Redactor { get; init; }
    /// <summary>The value as an error message may show it: a setting that can hold a secret hides it.</summary>
    public string Redact(string value) => Redactor is null ? value : Redactor(value);
    /// <summary>What separates a list's values in its environment variable (',' unless a value may hold commas).</summary>
    public virtual char EnvironmentSeparator => ',';

    /// <summary>Parses <paramref name="values"/> and stores the result; throws <see cref="FormatException"/> with the reason.</summary>
    internal abstract void Apply(AgentOptionsBuilder builder, IReadOnlyList<string> values);
}

/// <summary>A setting with one value.</summary>
public sealed class Setting<T> : SettingDescriptor
{
    private readonly Func<string, T> _parse;
    private readonly Action<AgentOptionsBuilder, T> _assign;

    internal Setting(string name, string flag, string environmentVariable, string? jsonKey, string valueName,
        string? defaultValue, Func<string, T> parse, Action<AgentOptionsBuilder, T> assign, string description,
        string? defaultHelp = null, bool isSwitch = false)
        : base(name, flag, environmentVariable, jsonKey, valueName, defaultValue, defaultHelp, description)
    {
        _parse = parse;
        _assign = assign;
        IsSwitchValue = isSwitch;
    }

    private bool IsSwitchValue { get; }
    public override bool IsList => false;
    public override bool IsSwitch => IsSwitchValue;

    internal override void Apply(AgentOptionsBuilder builder, IReadOnlyList<string> values) =>
        _assign(builder, _parse(values[^1]));
}

/// <summary>A setting with any number of values.</summary>
public sealed class ListSetting<T> : SettingDescriptor
{
    private readonly Func<string, T> _parseItem;
    private readonly Action<AgentOptionsBuilder, IReadOnlyList<T>> _assign;

    internal ListSetting(string name, string flag, string environmentVariable, string? jsonKey, string valueName,
        Func<string, T> parseItem, Action<AgentOptionsBuilder, IReadOnlyList<T>> assign, string description, char environmentSeparator = ',')
        : base(name, flag, environmentVariable, jsonKey, valueName, null, "(none)", description)
    {
        _parseItem = parseItem;
        _assign = assign;
        EnvironmentSeparatorValue = environmentSeparator;
    }

    private char EnvironmentSeparatorValue { get; }
    public override bool IsList => true;
    public override char EnvironmentSeparator => EnvironmentSeparatorValue;

    internal override void Apply(AgentOptionsBuilder builder, IReadOnlyList<string> values)
    {
        var items = new List<T>(values.Count);
        foreach (var v in values) items.Add(_parseItem(v));
        _assign(builder, items);
    }
}
