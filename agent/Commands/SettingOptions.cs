using System.CommandLine;
using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Commands;

/// <summary>Command-line options generated from the setting table, so a new setting needs no code here.</summary>
internal sealed class SettingOptions
{
    private readonly List<(SettingDescriptor Setting, Option Option)> _options = [];

    public SettingOptions(Command command, IEnumerable<SettingDescriptor> settings)
    {
        foreach (var setting in settings)
        {
            var description = $"{setting.Description} [env {setting.EnvironmentVariable}"
                + (setting.JsonKey is null ? "" : $", json \"{setting.JsonKey}\"")
                + $", default {setting.DefaultHelp}]";
            Option option = setting.IsList
                ? new Option<string[]>(setting.Flag) { Description = description, HelpName = setting.ValueName, AllowMultipleArgumentsPerToken = false }
                : new Option<string>(setting.Flag) { Description = description, HelpName = setting.ValueName };
            command.Options.Add(option);
            _options.Add((setting, option));
        }
    }

    /// <summary>The values given on this command line, keyed by setting name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Collect(ParseResult parseResult)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (setting, option) in _options)
        {
            switch (option)
            {
                case Option<string[]> list when parseResult.GetValue(list) is { Length: > 0 } values:
                    result[setting.Name] = values;
                    break;
                case Option<string> single when parseResult.GetValue(single) is { } value:
                    result[setting.Name] = [value];
                    break;
            }
        }
        return result;
    }
}
