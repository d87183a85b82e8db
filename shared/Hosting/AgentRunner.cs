using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Logging;
using EdgeStream.Hosting.Storage;
using EdgeStream.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting;

/// <summary>Exit codes of the <c>edgestream</c> executable.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Start-up or run-time failure: data directory, port in use, storage, fsck found damage.</summary>
    public const int Failure = 1;
    /// <summary>Usage or configuration error.</summary>
    public const int Usage = 2;
}

/// <summary>
/// Runs a node until SIGTERM/Ctrl-C: prepares the data directory, logging and identity, starts the
/// role's host, waits, and shuts down cleanly. Expected errors print one line to stderr.
/// </summary>
public static partial class AgentRunner
{
    public static async Task<int> RunAsync(AgentOptions options, IEnumerable<IRoleModule> roleModules, TextWriter stderr)
    {
        // Settings the storage library checks itself are configuration errors too: check before anything starts.
        try
        {
            StorageHostedService.CreateStorageOptions(options).Validate();
        }
        catch (ConfigurationException ex)
        {
            await stderr.WriteLineAsync($"edgestream: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        DataDirectoryLock dataLock;
        try
        {
            PrepareDataDirectory(options);
            dataLock = DataDirectoryLock.Acquire(options.DataDirectory);
        }
        catch (EdgeStreamException ex)
        {
            await stderr.WriteLineAsync($"edgestream: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        using var heldLock = dataLock;

        await using var serilog = AgentLogging.CreateLogger(options);
        using var loggerFactory = new SerilogBridgeFactory(serilog);
        var log = loggerFactory.CreateLogger("EdgeStream.Agent");

        MetadataStore metadata;
        NodeIdentity identity;
        try
        {
            metadata = MetadataStore.Open(options.MetadataPath);
        }
        catch (MetadataException ex)
        {
            HostLog.StartFailed(log, ex.Message);
            await stderr.WriteLineAsync($"edgestream: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        using (metadata)
        {
            try
            {
                identity = metadata.EnsureNodeIdentity(options.Role.ToText(), options.NodeId);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var message = $"metadata store '{options.MetadataPath}' is unusable: {ex.Message}";
                HostLog.StartFailed(log, message);
                await stderr.WriteLineAsync($"edgestream: {message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            if (identity.Created) HostLog.IdentityCreated(log, identity.NodeId, options.MetadataPath);
            if (identity.PreviousNodeId is { } previous) HostLog.IdentityRenamed(log, previous, identity.NodeId);

            var profile = MemoryProfiles.Resolve(options.Profile, options.MemoryLimitBytes, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
            var node = new NodeContext { NodeId = identity.NodeId, Role = options.Role, Profile = profile };
            HostLog.Starting(log, node.Version, options.Role.ToText(), node.NodeId, options.DataDirectory, options.Http.ToString(),
                options.Kafka.ToString(), options.Mqtt.ToString(), options.Uplink?.ToString() ?? "-",
                options.Parents.Count == 0 ? "-" : string.Join(",", options.Parents), options.Fsync.ToString().ToLowerInvariant());
            LogMemoryProfile(log, profile);
            if (!options.Http.IsLoopback)
                HostLog.HttpNotLoopback(log, options.Http.ToString());
            WarnUnauthenticated(log, options);

            WebApplication app;
            try
            {
                app = RoleHost.Build(options, node, metadata, serilog, roleModules);
            }
            catch (EdgeStreamException ex)
            {
                // E.g. a --tls-cert that cannot be read: said once, plainly, before anything listens.
                HostLog.StartFailed(log, ex.Message);
                await stderr.WriteLineAsync($"edgestream: {ex.Message}").ConfigureAwait(false);
                return ex is ConfigurationException ? ExitCodes.Usage : ExitCodes.Failure;
            }
            await using (app.ConfigureAwait(false))
            {
                try
                {
                    await app.StartAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    var message = Describe(ex, options);
                    HostLog.StartFailed(log, message);
                    if (ex is not (EdgeStreamException or IOException or UnauthorizedAccessException))
                        HostLog.StartFailedDetail(log, ex);
                    await StopQuietly(app, log).ConfigureAwait(false);
                    await stderr.WriteLineAsync($"edgestream: {message}").ConfigureAwait(false);
                    return ex is ConfigurationException ? ExitCodes.Usage : ExitCodes.Failure;
                }

                HostLog.Started(log, node.NodeId, options.Http.ToString());
                try
                {
                    // Returns on SIGTERM/SIGINT after the host has stopped every service (storage last).
                    await app.WaitForShutdownAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    HostLog.StopFailed(log, ex);
                    await stderr.WriteLineAsync($"edgestream: shutdown failed: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.Failure;
                }
            }
            HostLog.Stopped(log, node.NodeId);
        }
        return ExitCodes.Ok;
    }

    /// <summary>Creates <c>{data}</c> and <c>{data}/logs</c> and proves the directory is writable.</summary>
    public static void PrepareDataDirectory(AgentOptions options)
    {
        try
        {
            Directory.CreateDirectory(options.DataDirectory);
            Directory.CreateDirectory(options.LogsDirectory);
            var probe = Path.Combine(options.DataDirectory, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EdgeStreamException($"data directory '{options.DataDirectory}' (--data) is not writable: {ex.Message}", ex);
        }
    }

    private static string Describe(Exception ex, AgentOptions options)
    {
        // Kestrel: "Failed to bind to address http://127.0.0.1:9092: address already in use."
        // Ports are unique across listeners (validated), so the port names the setting.
        if (ex is IOException && BindFailure().Match(ex.Message) is { Success: true } m
            && int.TryParse(m.Groups["port"].ValueSpan, System.Globalization.CultureInfo.InvariantCulture, out var port))
        {
            var listener = ListenerOn(options, port);
            var reason = ex.InnerException is AddressInUseException ? "address already in use" : ex.Message;
            return listener is { } l ? $"cannot listen on {l.Address} ({l.Flag}): {reason}" : reason;
        }
        return ex is EdgeStreamException or IOException or UnauthorizedAccessException
            ? ex.Message
            : $"{ex.GetType().Name}: {ex.Message} (details in {options.LogsDirectory})";
    }

    /// <summary>The GC settings the runtime actually runs with, so a profile that did not take effect shows.</summary>
    /// <summary>One warning naming every data port that anyone on the network may use without credentials.</summary>
    private static void WarnUnauthenticated(ILogger log, AgentOptions options)
    {
        var open = new List<string>();
        // --tls-client-auth required authenticates every client by its certificate (it needs --tls-ca).
        var certificates = options.TlsClientAuth == EdgeStream.Security.Tls.TlsClientAuth.Required && options.TlsCa is not null;
        if (options.KafkaSasl.Count == 0 && !certificates && !options.Kafka.IsLoopback) open.Add($"Kafka {options.Kafka}");
        if (!options.MqttAuth && !certificates && !options.Mqtt.IsLoopback) open.Add($"MQTT {options.Mqtt}");
        if (open.Count > 0) HostLog.Unauthenticated(log, string.Join(", ", open));
        if (options.KafkaSasl.Contains("PLAIN") && options.TlsCert is null && !options.Kafka.IsLoopback) HostLog.PlainWithoutTls(log);
    }

    private static void LogMemoryProfile(ILogger log, MemoryProfile profile)
    {
        var gc = GC.GetConfigurationVariables();
        long Number(string key) => gc.TryGetValue(key, out var v) && v is long n ? n : 0;
        var limit = Number("GCHeapHardLimit");
        HostLog.MemoryProfileInEffect(log, profile.ToText(), gc.TryGetValue("ServerGC", out var server) && server is true ? "server" : "workstation",
            gc.TryGetValue("ConcurrentGC", out var concurrent) && concurrent is true ? "concurrent" : "non-concurrent",
            Number("GCConserveMem"), limit > 0 ? ByteSize.Format(limit) : "none", ByteSize.Format(Number("GCGen0MaxBudget")));
    }

    private static (HostPort Address, string Flag)? ListenerOn(AgentOptions options, int port)
    {
        if (options.Http.Port == port) return (options.Http, AgentSettings.Http.Flag);
        if (options.Kafka.Port == port) return (options.Kafka, AgentSettings.Kafka.Flag);
        if (options.Mqtt.Port == port) return (options.Mqtt, AgentSettings.Mqtt.Flag);
        if (options.Uplink is { } uplink && uplink.Port == port) return (uplink, AgentSettings.Uplink.Flag);
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"bind to address \S+:(?<port>\d+)")]
    private static partial System.Text.RegularExpressions.Regex BindFailure();

    private static async Task StopQuietly(WebApplication app, Microsoft.Extensions.Logging.ILogger log)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            HostLog.StopFailed(log, ex);
        }
    }
}

internal static partial class HostLog
{
    [LoggerMessage(EventId = 1207, Level = LogLevel.Warning, Message = "Data ports open to the network without authentication: {Ports} (see --kafka-sasl, --mqtt-auth)")]
    public static partial void Unauthenticated(ILogger logger, string ports);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Warning, Message = "Kafka SASL PLAIN without --tls-cert: passwords cross the network in clear text")]
    public static partial void PlainWithoutTls(ILogger logger);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information,
        Message = "edgestream {Version} starting as {Role} node {NodeId}: data={Data} http={Http} kafka={Kafka} mqtt={Mqtt} uplink={Uplink} parents={Parents} fsync={Fsync}")]
    public static partial void Starting(ILogger logger, string version, string role, string nodeId, string data, string http,
        string kafka, string mqtt, string uplink, string parents, string fsync);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Node {NodeId} ready; health at http://{Http}/healthz")]
    public static partial void Started(ILogger logger, string nodeId, string http);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Node {NodeId} stopped cleanly")]
    public static partial void Stopped(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "New node identity {NodeId} stored in {Path}")]
    public static partial void IdentityCreated(ILogger logger, string nodeId, string path);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "Node renamed from {Previous} to {NodeId} (explicit --node-id)")]
    public static partial void IdentityRenamed(ILogger logger, string previous, string nodeId);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "HTTP listener {Http} is not loopback: the admin API is reachable from the network")]
    public static partial void HttpNotLoopback(ILogger logger, string http);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Information, Message = "Memory profile {Profile}: {Gc} {Concurrency} GC, conserve memory {Conserve}, heap hard limit {HeapLimit}, gen0 budget up to {Gen0Budget}")]
    public static partial void MemoryProfileInEffect(ILogger logger, string profile, string gc, string concurrency, long conserve, string heapLimit, string gen0Budget);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Error, Message = "Start-up failed: {Reason}")]
    public static partial void StartFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Error, Message = "Start-up failure detail")]
    public static partial void StartFailedDetail(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Error, Message = "Shutdown failed")]
    public static partial void StopFailed(ILogger logger, Exception exception);
}
