using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using Npgsql;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// cdc: capture rate and lag of a PostgreSQL source, next to PostgreSQL's own pg_recvlogical in the
/// same run. The bench starts its own PostgreSQL 15 (initdb in a temp dir, loopback port,
/// wal_level=logical). Throughput: a backlog of <c>--rows</c> rows is committed while the agent is
/// stopped (single-row transactions, then <c>--tx-rows</c>-row transactions); the agent is started
/// and timed from 5 % to 100 % of the rows durable in its log (the source's row counter, which
/// counts after the fsync); pg_recvlogical reads a second pgoutput slot holding the same WAL into
/// /dev/null up to the same end LSN, timed as a whole. Lag: <c>--rate</c> single-row transactions
/// per second for <c>--seconds</c>, each row carrying its insert time; a Kafka consumer tailing the
/// topic measures insert-to-consumed latency (an upper bound of insert-to-durable).
/// </summary>
public static class CdcScenario
{
    private const string Bin = "/usr/lib/postgresql/15/bin";

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var rows = args.Int("rows", 50_000);
        var txRows = args.Int("tx-rows", 1_000);
        var rate = args.Int("rate", 5_000);
        var seconds = args.Int("seconds", 10);
        var parts = args.String("parts", "throughput,lag").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var agentDll = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-cdc-" + Environment.ProcessId));
        Directory.CreateDirectory(root);
        Console.WriteLine($"cdc: {rows:N0} rows as single-row transactions and as {txRows:N0}-row transactions; lag at {rate:N0} rows/s for {seconds} s");
        Console.WriteLine($"  edgestream: {agentDll}, --fsync group; pg_recvlogical: {Bin}/pg_recvlogical, pgoutput proto_version 2, streaming on, to /dev/null");
        Console.WriteLine();

        await using var pg = await BenchPostgres.StartAsync(Path.Combine(root, "pg"));
        try
        {
            if (parts.Contains("throughput"))
            {
                Report.Header("workload", "edgestream rows/s", "pg_recvlogical rows/s", "ratio");
                foreach (var (name, perTx) in new[] { ("single-row transactions", 1), ($"{txRows:N0}-row transactions", txRows) })
                {
                    var (ours, theirs) = await ThroughputAsync(pg, agentDll, Path.Combine(root, "agent-" + perTx), rows, perTx);
                    Report.Row(name, ours, theirs, $"{ours / theirs:P0}");
                }
                Console.WriteLine();
            }
            if (parts.Contains("lag"))
            {
                var (ours, peer) = await LagAsync(pg, agentDll, Path.Combine(root, "agent-lag"), rate, seconds);
                Report.Header("rate", "reader", "rows", "lag p50 ms", "lag p99 ms", "lag max ms");
                Report.Row($"{rate:N0} rows/s", "edgestream (insert to consumed)", ours.Count, ours.P50, ours.P99, ours.Max);
                Report.Row($"{rate:N0} rows/s", "pg_recvlogical (insert to printed)", peer.Count, peer.P50, peer.P99, peer.Max);
            }
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return 0;
    }

    private static async Task<(double Ours, double Theirs)> ThroughputAsync(BenchPostgres pg, string agentDll, string dataDir, int rows, int perTx)
    {
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.bench (id int8 PRIMARY KEY, v int8, pad text)");
        var source = $"b={pg.Url(db)}?tables=public.bench&snapshot=never";
        var ports = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        // First start: publication and slot. Then the peer's slot at the same point, the backlog, the end LSN.
        await using (var first = await Servers.StartAgentAsync(agentDll, dataDir, ports, "edge", ["--cdc", source, "--fsync", "group"]))
            await WaitAsync(async () => (await StatusAsync(ports.Http))?.GetProperty("state").GetString() == "streaming", TimeSpan.FromSeconds(60));
        await pg.ExecuteAsync(db, "SELECT pg_create_logical_replication_slot('peer', 'pgoutput')");
        await InsertAsync(pg, db, rows, perTx);
        var end = await pg.ScalarAsync(db, "SELECT pg_current_wal_lsn()::text");

        double ours;
        await using (var agent = await Servers.StartAgentAsync(agentDll, dataDir, ports, "edge", ["--cdc", source, "--fsync", "group"]))
        {
            var sw = Stopwatch.StartNew();
            double start = -1, done = -1;
            await WaitAsync(async () =>
            {
                var captured = (await StatusAsync(ports.Http))?.GetProperty("rows").GetInt64() ?? 0;
                if (start < 0 && captured >= rows / 20) start = sw.Elapsed.TotalSeconds;
                if (captured >= rows) done = sw.Elapsed.TotalSeconds;
                return done >= 0;
            }, TimeSpan.FromMinutes(10), pollMs: 10);
            ours = (rows - rows / 20) / Math.Max(done - start, 1e-3);
        }

        var recv = Stopwatch.StartNew();
        using (var process = Process.Start(new ProcessStartInfo($"{Bin}/pg_recvlogical")
        {
            ArgumentList = { "-h", "127.0.0.1", "-p", pg.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", db, "--slot", "peer", "--start",
                "-o", "proto_version=2", "-o", "publication_names=edgestream_b", "-o", "streaming=on", "--endpos", end, "-f", "/dev/null", "--no-loop" },
            RedirectStandardError = true,
            UseShellExecute = false,
        })!)
        {
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException("pg_recvlogical failed: " + await process.StandardError.ReadToEndAsync());
        }
        var theirs = rows / recv.Elapsed.TotalSeconds;
        await pg.ExecuteAsync(db, "SELECT pg_drop_replication_slot('peer')");
        await pg.ExecuteAsync(db, "SELECT pg_drop_replication_slot('edgestream_b')");
        return (ours, theirs);
    }

    private static async Task InsertAsync(BenchPostgres pg, string db, int rows, int perTx)
    {
        const int sessions = 4;
        var per = rows / sessions;
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(s => Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(pg.ConnectionString(db));
            await connection.OpenAsync();
            var from = s * per;
            for (var i = from; i < from + per; i += perTx)
            {
                await using var command = new NpgsqlCommand(
                    $"INSERT INTO public.bench SELECT g, g, 'row ' || g FROM generate_series({i}, {Math.Min(i + perTx, from + per) - 1}) g", connection);
                await command.ExecuteNonQueryAsync();
            }
        })));
    }

    private static async Task<(Percentiles Ours, Percentiles Peer)> LagAsync(BenchPostgres pg, string agentDll, string dataDir, int rate, int seconds)
    {
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.lag (id int8 PRIMARY KEY, sent_us int8)");
        var ports = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        await using var agent = await Servers.StartAgentAsync(agentDll, dataDir, ports, "edge", ["--cdc", $"l={pg.Url(db)}?tables=public.lag&snapshot=never", "--fsync", "group"]);
        await WaitAsync(async () => (await StatusAsync(ports.Http))?.GetProperty("state").GetString() == "streaming", TimeSpan.FromSeconds(60));

        // The peer: PostgreSQL's own client on a test_decoding slot of the same database, printing each
        // change as a text line the moment it arrives. Its lag is what decoding alone costs on this
        // machine at this rate: the share of the agent's figure that is PostgreSQL's.
        await pg.ExecuteAsync(db, "SELECT pg_create_logical_replication_slot('lagpeer', 'test_decoding')");
        using var peer = Process.Start(new ProcessStartInfo($"{Bin}/pg_recvlogical")
        {
            ArgumentList = { "-h", "127.0.0.1", "-p", pg.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", db, "--slot", "lagpeer", "--start", "-f", "-", "--no-loop" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;

        var total = rate * seconds;
        var peerLags = new List<double>(total);
        var peerReader = Task.Run(async () =>
        {
            // e.g. "table public.lag: INSERT: id[bigint]:7 sent_us[bigint]:1733350000123456"
            while (peerLags.Count < total && await peer.StandardOutput.ReadLineAsync() is { } line)
            {
                var at = line.IndexOf("sent_us[bigint]:", StringComparison.Ordinal);
                if (at < 0 || !line.StartsWith("table public.lag: INSERT:", StringComparison.Ordinal)) continue;
                var now = NowMicros();
                var digits = line.AsSpan(at + "sent_us[bigint]:".Length);
                var end = digits.IndexOf(' ');
                if (long.TryParse(end < 0 ? digits : digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var sent)) peerLags.Add((now - sent) / 1000.0);
            }
        });
        var lags = new List<double>(total);
        var captureLags = new List<double>(total);
        using var stop = new CancellationTokenSource();
        var consumer = Task.Run(() =>
        {
            using var c = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
            {
                BootstrapServers = $"127.0.0.1:{ports.Kafka}", GroupId = "bench", EnableAutoCommit = false, FetchWaitMaxMs = 5,
                FetchMinBytes = 1, BrokerAddressFamily = BrokerAddressFamily.V4, TopicMetadataRefreshIntervalMs = 200,
            }).SetLogHandler((_, _) => { }).Build();
            c.Assign(new TopicPartitionOffset("cdc.l.public.lag", 0, Offset.Beginning));
            while (lags.Count < total && !stop.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? r;
                try { r = c.Consume(TimeSpan.FromMilliseconds(100)); }
                catch (ConsumeException) { continue; }
                if (r?.Message?.Value is not { } value) continue;
                var now = NowMicros();
                using var doc = JsonDocument.Parse(value);
                var sent = doc.RootElement.GetProperty("after").GetProperty("sent_us").GetInt64();
                lags.Add((now - sent) / 1000.0);
                captureLags.Add(doc.RootElement.GetProperty("ts_ms").GetInt64() - sent / 1000.0);
            }
        });

        const int sessions = 4;
        var interval = TimeSpan.FromSeconds(sessions / (double)rate);
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(s => Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(pg.ConnectionString(db));
            await connection.OpenAsync();
            var sw = Stopwatch.StartNew();
            for (var i = s; i < total; i += sessions)
            {
                var due = interval * (i / sessions);
                var wait = due - sw.Elapsed;
                if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait);
                await using var command = new NpgsqlCommand($"INSERT INTO public.lag VALUES ({i}, {NowMicros()})", connection);
                await command.ExecuteNonQueryAsync();
            }
        })));
        await Task.WhenAny(Task.WhenAll(consumer, peerReader), Task.Delay(TimeSpan.FromSeconds(60)));
        await stop.CancelAsync();
        await consumer;
        try { peer.Kill(); } catch (InvalidOperationException) { }
        await peer.WaitForExitAsync();
        await peerReader;
        await pg.ExecuteAsync(db, "SELECT pg_drop_replication_slot('lagpeer')");
        if (lags.Count == 0) throw new InvalidOperationException("no record consumed");
        if (peerLags.Count == 0) throw new InvalidOperationException("pg_recvlogical printed no change: " + await peer.StandardError.ReadToEndAsync());
        var capture = Percentiles.Of(captureLags);
        Console.WriteLine($"  edgestream insert to captured (envelope ts_ms): p50 {capture.P50:N1} ms, p99 {capture.P99:N1} ms");
        return (Percentiles.Of(lags), Percentiles.Of(peerLags));
    }

    private readonly record struct Percentiles(double P50, double P99, double Max, int Count)
    {
        public static Percentiles Of(List<double> values)
        {
            values.Sort();
            return values.Count == 0 ? default : new(values[values.Count / 2], values[(int)(values.Count * 0.99)], values[^1], values.Count);
        }
    }

    private static long NowMicros() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000 + (Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)) % 1000;

    private static async Task<JsonElement?> StatusAsync(int httpPort)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var status = await client.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{httpPort}/v1/status");
            return status.TryGetProperty("cdc", out var cdc) && cdc.GetArrayLength() > 0 ? cdc[0].Clone() : null;
        }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) { return null; }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, int pollMs = 100)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (await condition()) return;
            await Task.Delay(pollMs);
        }
        throw new TimeoutException($"condition not met within {timeout}");
    }
}

/// <summary>A PostgreSQL 15 of the bench's own: initdb as the postgres user, loopback port, wal_level=logical; stopped at dispose.</summary>
public sealed class BenchPostgres : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _directory;

    private BenchPostgres(string directory) => _directory = directory;

    public int Port { get; } = ChildProcess.FreePort();
    private string Data => Path.Combine(_directory, "data");

    public static async Task<BenchPostgres> StartAsync(string directory)
    {
        if (!File.Exists($"{Bin}/initdb")) throw new ArgumentException($"PostgreSQL 15 not found at {Bin}: apt-get install postgresql");
        var pg = new BenchPostgres(directory);
        Directory.CreateDirectory(directory);
        await RunAsync("chown", "postgres:postgres", directory);
        await pg.AsPostgresAsync("initdb", "-D", pg.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        // Commits are not fsynced one by one (the bench measures capture, not the disk), but the WAL
        // writer flushes every 10 ms: a walsender decodes only flushed WAL, and the default 200 ms would
        // stand in every lag figure (synchronous_commit=on flushes at each commit, like this or better).
        await File.AppendAllTextAsync(Path.Combine(pg.Data, "postgresql.conf"),
            $"\nlisten_addresses = '127.0.0.1'\nport = {pg.Port}\nunix_socket_directories = '{directory}'\nwal_level = logical\nmax_wal_senders = 10\nmax_replication_slots = 10\nsynchronous_commit = off\nwal_writer_delay = 10ms\n");
        await pg.AsPostgresAsync("pg_ctl", "-D", pg.Data, "-l", Path.Combine(directory, "server.log"), "-w", "start");
        return pg;
    }

    public string ConnectionString(string db) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={db};Pooling=false";
    public string Url(string db) => $"postgres://postgres@127.0.0.1:{Port}/{db}";

    public async Task<string> CreateDatabaseAsync()
    {
        var name = "b_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync("postgres", $"CREATE DATABASE {name}");
        return name;
    }

    public async Task ExecuteAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(db));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<string> ScalarAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(db));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        try { await AsPostgresAsync("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop"); }
        catch (InvalidOperationException) { }
    }

    private Task AsPostgresAsync(string tool, params string[] args) => RunAsync("runuser", ["-u", "postgres", "--", $"{Bin}/{tool}", .. args]);

    private static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {await stderr}");
    }
}
