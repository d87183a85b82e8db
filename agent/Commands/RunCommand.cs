using System.CommandLine;
using EdgeStream.Cloud;
using EdgeStream.Edge;
using EdgeStream.Gateway;
using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Commands;

/// <summary><c>edgestream run</c>: start a node and serve until SIGTERM or Ctrl-C.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Start a node (edge by default) and serve until SIGTERM or Ctrl-C. Every flag can also come from an EDGESTREAM_* variable or the --config file; a flag wins over the environment, which wins over the file.");
        var settings = new SettingOptions(command, AgentSettings.All);
        command.SetAction(async (parseResult, _) =>
        {
            AgentOptions options;
            try
            {
                options = AgentConfiguration.Resolve(settings.Collect(parseResult), AgentConfiguration.ProcessEnvironment());
            }
            catch (ConfigurationException ex)
            {
                await Console.Error.WriteLineAsync($"edgestream: {ex.Message}");
                return ExitCodes.Usage;
            }
            var profile = MemoryProfiles.Resolve(options.Profile, options.MemoryLimitBytes, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
            GcSettingsRestart.ApplyOrContinue(MemoryProfiles.GcEnvironment(profile, options.MemoryLimitBytes), Console.Error);
            return await AgentRunner.RunAsync(options, [new EdgeRole(), new GatewayRole(), new CloudRole()], Console.Error);
        });
        return command;
    }
}
