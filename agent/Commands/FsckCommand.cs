using System.CommandLine;
using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Storage;
using EdgeStream.Hosting.Logging;
using Serilog;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream fsck</c>: check (and with --repair, fix) the log under <c>{data}/log</c>.
/// Exit 0 when healthy or repaired, 1 when damage was found and not repaired, 2 on a usage error.
/// Run it while no node uses the data directory.
/// </summary>
internal static class FsckCommand
{
    public static Command Create()
    {
        var command = new Command("fsck", "Check the log's segments and indexes; with --repair, cut damaged tails and rebuild indexes. Run it while the node is stopped.");
        var settings = new SettingOptions(command, [AgentSettings.Data, AgentSettings.Config]);
        var repair = new Option<bool>("--repair") { Description = "Repair what is damaged (truncates torn tails, rebuilds indexes)." };
        command.Options.Add(repair);
        command.SetAction(parseResult =>
        {
            AgentOptions options;
            try
            {
                options = AgentConfiguration.Resolve(settings.Collect(parseResult), AgentConfiguration.ProcessEnvironment());
            }
            catch (ConfigurationException ex)
            {
                Console.Error.WriteLine($"edgestream: {ex.Message}");
                return ExitCodes.Usage;
            }

            if (!Directory.Exists(options.LogDirectory))
            {
                Console.Out.WriteLine($"no log at {options.LogDirectory}: nothing to check.");
                return ExitCodes.Ok;
            }

            // A running node owns the directory; checking (let alone repairing) under it would race its writes.
            DataDirectoryLock dataLock;
            try
            {
                dataLock = DataDirectoryLock.Acquire(options.DataDirectory);
            }
            catch (EdgeStreamException ex)
            {
                Console.Error.WriteLine($"edgestream: {ex.Message}; stop the node before running fsck.");
                return ExitCodes.Failure;
            }
            using var heldLock = dataLock;

            using var serilog = new LoggerConfiguration()
                .WriteTo.Console(standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose, formatProvider: System.Globalization.CultureInfo.InvariantCulture)
                .CreateLogger();
            using var loggerFactory = new SerilogBridgeFactory(serilog);
            var logger = loggerFactory.CreateLogger("EdgeStream.Fsck");

            var doRepair = parseResult.GetValue(repair);
            FsckReport report;
            try
            {
                report = LogChecker.Check(options.LogDirectory, doRepair, logger);
            }
            catch (Exception ex) when (ex is EdgeStreamException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"edgestream: fsck of {options.LogDirectory} failed: {ex.Message}");
                return ExitCodes.Failure;
            }
            report.WriteTo(Console.Out);
            if (report.Healthy) return ExitCodes.Ok;
            if (!doRepair)
            {
                Console.Out.WriteLine("damage found; run 'edgestream fsck --repair' to fix it.");
                return ExitCodes.Failure;
            }

            // Trust, but verify: a second, read-only pass must find the log healthy.
            var after = LogChecker.Check(options.LogDirectory, repair: false, logger);
            if (after.Healthy)
            {
                Console.Out.WriteLine("repaired.");
                return ExitCodes.Ok;
            }
            after.WriteTo(Console.Out);
            Console.Out.WriteLine("damage remains after repair.");
            return ExitCodes.Failure;
        });
        return command;
    }
}
