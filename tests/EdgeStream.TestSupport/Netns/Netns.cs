using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EdgeStream.TestSupport;

/// <summary>
/// Reaching into a test's network namespace from the test process, without a single interface in the
/// host's namespace: work runs on a fresh thread that <c>setns</c>s into the namespace and back. A socket
/// keeps the namespace it was created in, and threads inherit their creator's, so a socket made there, or
/// a librdkafka client built there (its threads start in its constructor), talks inside the namespace
/// from then on. Only a dedicated thread ever changes namespace; pool threads never do.
/// </summary>
public static partial class Netns
{
    private const int CloneNewNet = 0x40000000;
    private const int OpenReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC

    /// <summary>Runs <paramref name="work"/> on a new thread inside namespace <paramref name="ns"/> (from <c>ip netns add</c>).</summary>
    public static T Run<T>(string ns, Func<T> work)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            var home = Open("/proc/thread-self/ns/net");
            var target = Open($"/var/run/netns/{ns}");
            try
            {
                if (setns(target, CloneNewNet) != 0) throw new InvalidOperationException($"setns into {ns}: errno {Marshal.GetLastPInvokeError()}");
                try { result = work(); }
                catch (Exception ex) { error = ex; }
                // A thread left in a test namespace must not live on: fail loudly instead.
                if (setns(home, CloneNewNet) != 0) Environment.FailFast($"setns back from {ns}: errno {Marshal.GetLastPInvokeError()}");
            }
            catch (Exception ex) when (error is null)
            {
                error = ex;
            }
            finally
            {
                _ = close(target);
                _ = close(home);
            }
        }) { IsBackground = true, Name = "netns " + ns };
        thread.Start();
        thread.Join();
        if (error is not null) throw new InvalidOperationException($"in namespace {ns}: {error.Message}", error);
        return result;
    }

    /// <summary>An HTTP client whose connections are made inside <paramref name="ns"/>.</summary>
    public static HttpClient HttpClient(string ns, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = Run(ns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
                try
                {
                    await socket.ConnectAsync(new DnsEndPoint(context.DnsEndPoint.Host, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        };
        return new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(5) };
    }

    private static int Open(string path)
    {
        var fd = open(path, OpenReadOnlyCloseOnExec);
        if (fd < 0) throw new InvalidOperationException($"open {path}: errno {Marshal.GetLastPInvokeError()}");
        return fd;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
