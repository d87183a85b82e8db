using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Systemd;

/// <summary>
/// The node's side of <c>Type=notify</c>: READY=1 once every listener is bound (the host's ApplicationStarted,
/// which follows Kestrel's bind), WATCHDOG=1 from a health loop at half the watchdog interval while storage is open
/// (a wedged node stops answering and systemd restarts it), STOPPING=1 as shutdown begins.
/// </summary>
internal sealed class SystemdNotifyService(
    SystemdNotifier notifier,
    SystemdEnvironment environment,
    IHostApplicationLifetime lifetime,
    StorageState storage,
    NodeContext node,
    ILogger<SystemdNotifyService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stopping = lifetime.ApplicationStopping.Register(() => notifier.Send("STOPPING=1"));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (!notifier.Send($"READY=1\nSTATUS={node.Role.ToText()} node {node.NodeId} serving\nMAINPID={Environment.ProcessId}"))
            SystemdLog.NotifyFailed(log, environment.NotifySocket ?? "-");
        else
            SystemdLog.Ready(log, environment.NotifySocket ?? "-", environment.WatchdogInterval?.TotalSeconds ?? 0);

        if (environment.WatchdogInterval is not { } interval) return;
        // sd_watchdog_enabled(3) advises keep-alives at half the interval so one late tick is not fatal.
        using var timer = new PeriodicTimer(interval / 2);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (storage.IsOpen) notifier.Send("WATCHDOG=1");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>Registers the notifier only when systemd (or a test standing in for it) set <c>NOTIFY_SOCKET</c>.</summary>
public static class SystemdHosting
{
    public static IServiceCollection AddSystemdNotify(this IServiceCollection services, SystemdEnvironment environment)
    {
        if (environment.NotifySocket is not { } socket) return services;
        services.AddSingleton(environment);
        services.AddSingleton(_ => new SystemdNotifier(socket));
        services.AddHostedService<SystemdNotifyService>();
        return services;
    }
}

internal static partial class SystemdLog
{
    [LoggerMessage(EventId = 1280, Level = LogLevel.Information, Message = "Told systemd READY=1 on {Socket}; watchdog every {WatchdogSeconds} s (0: none)")]
    public static partial void Ready(ILogger logger, string socket, double watchdogSeconds);

    [LoggerMessage(EventId = 1281, Level = LogLevel.Warning, Message = "Could not send READY=1 to the notify socket {Socket}")]
    public static partial void NotifyFailed(ILogger logger, string socket);
}
