using System.CommandLine;
using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Metadata;
using EdgeStream.Security;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// What the verbs that edit a stopped node's <c>meta.db</c> (<c>users</c>, <c>acls</c>) share: the
/// data directory from the settings, its lock and store, and their error lines (<c>edgestream VERB: ...</c>).
/// </summary>
internal sealed class StoppedNodeMetadata(string verb, string whenRunning)
{
    /// <summary>
    /// Opens the data directory's store under its lock (a running node holds both, and the store is
    /// its to change) and runs <paramref name="action"/>; <c>whenRunning</c> says how to do it over the network instead.
    /// </summary>
    public int Run(SettingOptions settings, ParseResult parseResult, Func<MetadataStore, int> action)
    {
        AgentOptions options;
        try
        {
            options = AgentConfiguration.Resolve(settings.Collect(parseResult), AgentConfiguration.ProcessEnvironment());
        }
        catch (ConfigurationException ex)
        {
            return Usage(ex.Message);
        }
        try
        {
            Directory.CreateDirectory(options.DataDirectory);
            using var dataLock = DataDirectoryLock.Acquire(options.DataDirectory);
            using var metadata = MetadataStore.Open(options.MetadataPath);
            return action(metadata);
        }
        catch (EdgeStreamException ex) when (ex is not SecurityException)
        {
            return Fail($"{ex.Message}. {whenRunning}");
        }
        catch (Exception ex) when (ex is SecurityException or IOException or UnauthorizedAccessException)
        {
            return Fail(ex.Message);
        }
    }

    public int Usage(string message)
    {
        Console.Error.WriteLine($"edgestream {verb}: {message}");
        return ExitCodes.Usage;
    }

    public int Fail(string message)
    {
        Console.Error.WriteLine($"edgestream {verb}: {message}");
        return ExitCodes.Failure;
    }
}
