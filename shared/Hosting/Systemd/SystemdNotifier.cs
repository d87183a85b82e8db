using System.Net.Sockets;
using System.Text;

namespace EdgeStream.Hosting.Systemd;

/// <summary>
/// What systemd told this process through its environment (sd_notify(3), sd_watchdog_enabled(3)):
/// where to send notifications, and how often the watchdog expects a keep-alive.
/// </summary>
public sealed record SystemdEnvironment(string? NotifySocket, TimeSpan? WatchdogInterval)
{
    /// <summary>Reads <c>NOTIFY_SOCKET</c>, <c>WATCHDOG_USEC</c> and <c>WATCHDOG_PID</c> of this process.</summary>
    public static SystemdEnvironment FromProcess() => Parse(
        Environment.GetEnvironmentVariable("NOTIFY_SOCKET"),
        Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
        Environment.GetEnvironmentVariable("WATCHDOG_PID"),
        Environment.ProcessId);

    public static SystemdEnvironment Parse(string? notifySocket, string? watchdogUsec, string? watchdogPid, int processId)
    {
        var socket = string.IsNullOrEmpty(notifySocket) ? null : notifySocket;
        TimeSpan? interval = null;
        // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited the variables must not answer for it.
        var forUs = string.IsNullOrEmpty(watchdogPid)
                    || (int.TryParse(watchdogPid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) && pid == processId);
        if (socket is not null && forUs
            && ulong.TryParse(watchdogUsec, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var usec) && usec > 0)
            interval = TimeSpan.FromMicroseconds(usec);
        return new SystemdEnvironment(socket, interval);
    }
}

/// <summary>
/// Sends sd_notify(3) messages ("READY=1", "WATCHDOG=1", "STOPPING=1") as datagrams on the unix socket named by
/// <c>NOTIFY_SOCKET</c>. A plain socket, so no libsystemd is needed and the NativeAOT binary stays self-contained.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endpoint;

    public SystemdNotifier(string notifySocket)
    {
        ArgumentException.ThrowIfNullOrEmpty(notifySocket);
        // "@name" is a socket in the abstract namespace, which the kernel spells with a leading NUL.
        _endpoint = new UnixDomainSocketEndPoint(notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>Sends one notification (newline-separated assignments); false when the receiver is gone.</summary>
    public bool Send(string state)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), _endpoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
