using System.Diagnostics;
using System.Net.Sockets;
using EdgeStream.TestSupport;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// Clients that do not play TLS by the rules, against a node with a certificate (Kafka, MQTT and HTTP
/// listeners): garbage before the ClientHello, a handshake that never finishes, a renegotiation. Each
/// gets its connection closed, and <c>openssl s_client</c> still completes a handshake afterwards.
/// </summary>
public sealed class HostileTlsTests
{
    // The handshake timeout is 10 s (KestrelListeners.TlsHandshakeTimeout); a close must come well within this.
    private static readonly TimeSpan CloseDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task GarbageBeforeClientHello_ConnectionClosed_NodeKeepsServing()
    {
        using var fleet = await TlsFleet.CreateAsync("edge-1");
        await using var node = await AgentNode.StartAsync(fleet.Dir.Combine("edge"), "edge", ["--node-id", "edge-1", .. fleet.Flags("edge-1")]);
        byte[] garbage = [.. "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, 0x00, 0xff, 0x13, 0x37, .. new byte[64]];
        foreach (var port in Ports(node))
        {
            var (closed, after) = await SendAndAwaitCloseAsync(port, garbage);
            Assert.True(closed, $"port {port}: still open {after} after garbage");
            AssertHandshakeWorks(fleet, port);
        }
    }

    [Fact]
    public async Task HandshakeThatNeverFinishes_ClosedByTheHandshakeTimeout()
    {
        using var fleet = await TlsFleet.CreateAsync("edge-1");
        await using var node = await AgentNode.StartAsync(fleet.Dir.Combine("edge"), "edge", ["--node-id", "edge-1", .. fleet.Flags("edge-1")]);
        // A TLS record header announcing a 512-byte ClientHello, and only its first bytes.
        byte[] halfClientHello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, .. new byte[16]];
        var silent = Ports(node).Select(p => SendAndAwaitCloseAsync(p, [])).ToList();
        var half = Ports(node).Select(p => SendAndAwaitCloseAsync(p, halfClientHello)).ToList();
        // While those hang, the node serves a real client.
        AssertHandshakeWorks(fleet, node.KafkaPort);
        foreach (var (closed, after) in await Task.WhenAll(silent.Concat(half)))
        {
            Assert.True(closed, $"still open after {after}");
            // Closed by the timeout, not at once: the server waited for the rest of the handshake.
            Assert.True(after >= TimeSpan.FromSeconds(5), $"closed after only {after}");
        }
        AssertHandshakeWorks(fleet, node.MqttPort);
    }

    [Fact]
    public async Task RenegotiationAttempt_Refused_OtherClientsUnaffected()
    {
        using var fleet = await TlsFleet.CreateAsync("edge-1");
        await using var node = await AgentNode.StartAsync(fleet.Dir.Combine("edge"), "edge", ["--node-id", "edge-1", .. fleet.Flags("edge-1")]);
        foreach (var port in Ports(node))
        {
            // TLS 1.2 (1.3 has no renegotiation); "R" on s_client's input asks for one once the handshake is done.
            var start = new ProcessStartInfo("openssl")
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in new[] { "s_client", "-connect", $"127.0.0.1:{port}", "-CAfile", fleet.Ca, "-no_tls1_3", "-legacy_renegotiation" })
                start.ArgumentList.Add(a);
            using var client = Process.Start(start)!;
            var output = new System.Text.StringBuilder();
            client.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            client.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            client.BeginOutputReadLine();
            client.BeginErrorReadLine();
            string Output() { lock (output) return output.ToString(); }
            Assert.True(await Wait.UntilAsync(() => Output().Contains("Verify return code: 0 (ok)", StringComparison.Ordinal), CloseDeadline), Output());
            await client.StandardInput.WriteLineAsync("R");
            await client.StandardInput.FlushAsync();
            // Input stays open: s_client ends only when the server closes the connection.
            using var deadline = new CancellationTokenSource(CloseDeadline);
            try { await client.WaitForExitAsync(deadline.Token); }
            catch (OperationCanceledException) { client.Kill(); Assert.Fail($"port {port}: renegotiation not refused within {CloseDeadline}\n{Output()}"); }
            Assert.Contains("RENEGOTIATING", Output());
            Assert.NotEqual(0, client.ExitCode);
            AssertHandshakeWorks(fleet, port);
        }
    }

    private static int[] Ports(AgentNode node) => [node.KafkaPort, node.MqttPort, node.HttpPort];

    /// <summary>Connects, sends <paramref name="bytes"/> and waits (bounded) for the server to close: EOF or a reset.</summary>
    private static async Task<(bool Closed, TimeSpan After)> SendAndAwaitCloseAsync(int port, byte[] bytes)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var stream = tcp.GetStream();
        var sw = Stopwatch.StartNew();
        if (bytes.Length > 0) await stream.WriteAsync(bytes);
        using var deadline = new CancellationTokenSource(CloseDeadline);
        var buffer = new byte[4096];
        try
        {
            // Whatever the server answers (an alert) is read past; only the end of the stream counts.
            while (await stream.ReadAsync(buffer, deadline.Token) > 0) { }
            return (true, sw.Elapsed);
        }
        catch (IOException) { return (true, sw.Elapsed); }
        catch (OperationCanceledException) { return (false, sw.Elapsed); }
    }

    /// <summary>A full TLS handshake with openssl s_client, verified against the fleet CA.</summary>
    private static void AssertHandshakeWorks(TlsFleet fleet, int port)
    {
        var result = ExternalTool.Run("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-CAfile", fleet.Ca, "-verify_return_error"],
            stdin: "", timeout: CloseDeadline);
        Assert.True(result.Stdout.Contains("Verify return code: 0 (ok)", StringComparison.Ordinal), $"port {port}: {result.Stdout}\n{result.Stderr}");
    }
}
