using System.CommandLine;
using System.Runtime.InteropServices;
using EdgeStream.Hosting;
using EdgeStream.Kafka.Client;

namespace EdgeStream.Agent.Commands;

/// <summary>What the Kafka client verbs (topics, produce, consume) share: --bootstrap, signals, error reporting.</summary>
internal static class KafkaCli
{
    public const string BootstrapVariable = "EDGESTREAM_BOOTSTRAP";
    public const string DefaultBootstrap = "localhost:9092";

    public static Option<string> AddBootstrapOption(Command command)
    {
        var option = new Option<string>("--bootstrap", "-b")
        {
            Description = $"Kafka broker to connect to, HOST:PORT [env {BootstrapVariable}, default {DefaultBootstrap}]",
            HelpName = "HOST:PORT",
        };
        command.Options.Add(option);
        return option;
    }

    /// <summary>
    /// Connects to the bootstrap broker (flag &gt; EDGESTREAM_BOOTSTRAP &gt; localhost:9092) and runs
    /// <paramref name="body"/>. SIGINT/SIGTERM cancel it (exit 0: stopping a follower is not a failure);
    /// client errors print one line to stderr and exit 1; a bad address exits 2.
    /// </summary>
    public static async Task<int> RunAsync(ParseResult parseResult, Option<string> bootstrapOption, Func<KafkaClient, CancellationToken, Task<int>> body)
    {
        var bootstrap = parseResult.GetValue(bootstrapOption);
        if (string.IsNullOrWhiteSpace(bootstrap)) bootstrap = Environment.GetEnvironmentVariable(BootstrapVariable);
        if (string.IsNullOrWhiteSpace(bootstrap)) bootstrap = DefaultBootstrap;
        if (!BrokerAddress.TryParse(bootstrap, out _, out var error))
            return UsageError($"--bootstrap: {error}");

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            await using var client = await KafkaClient.ConnectAsync(bootstrap, cancellationToken: stop.Token);
            return await body(client, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (KafkaClientException ex)
        {
            Console.Error.WriteLine($"edgestream: {ex.Message}");
            return ExitCodes.Failure;
        }

        void Stop(PosixSignalContext context)
        {
            // Handled here: the verb winds down and exits 0 instead of the runtime killing it.
            context.Cancel = true;
            stop.Cancel();
        }
    }

    public static int UsageError(string message)
    {
        Console.Error.WriteLine($"edgestream: {message}");
        return ExitCodes.Usage;
    }
}

/// <summary>
/// Standard output for records: raw bytes, one line per record, flushed per line so a pipe sees each
/// record at once. A reader that goes away (EPIPE: `| head`) is not an error: <see cref="TryWriteLine"/>
/// returns false and the verb stops quietly. .NET ignores SIGPIPE, so the closed pipe surfaces as an IOException.
/// </summary>
internal sealed partial class LineOutput : IDisposable
{
    private const short PollErr = 0x008;
    private const short PollHup = 0x010;

    private readonly Stream _stdout = Console.OpenStandardOutput();

    public bool Closed { get; private set; }

    public bool TryWriteLine(ReadOnlySpan<byte> line)
    {
        if (Closed) return false;
        try
        {
            _stdout.Write(line);
            _stdout.WriteByte((byte)'\n');
            _stdout.Flush();
            return true;
        }
        catch (IOException)
        {
            Closed = true;
            return false;
        }
    }

    /// <summary>
    /// Whether stdout is a pipe whose reader has gone. A follower with nothing to print would otherwise
    /// never write, never get EPIPE, and outlive the `head` it was piped into; poll(2) reports POLLERR
    /// on the write end of a pipe without readers.
    /// </summary>
    public bool ReaderGone()
    {
        if (Closed) return true;
        if (OperatingSystem.IsWindows()) return false;
        var fd = new PollFd { Fd = 1, Events = 0 };
        if (poll(ref fd, 1, 0) == 1 && (fd.Revents & (PollErr | PollHup)) != 0) Closed = true;
        return Closed;
    }

    public void Dispose() => _stdout.Dispose();

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(ref PollFd fds, nuint count, int timeoutMs);
}
