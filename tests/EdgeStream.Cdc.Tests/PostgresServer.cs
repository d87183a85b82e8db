using System.Diagnostics;
using EdgeStream.TestSupport;
using Npgsql;

namespace EdgeStream.Cdc.Tests;

/// <summary>
/// A PostgreSQL 15 of its own (Debian's postgresql package): initdb into a temporary directory as
/// the postgres user, a free loopback port, wal_level=logical, trust authentication on loopback.
/// Started and stopped by the tests (pg_ctl), never left running.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "edgestream-pg-" + Guid.NewGuid().ToString("N")[..10]);

    public int Port { get; } = AgentProcess.FreePort();
    public string DataDirectory => Path.Combine(_directory, "data");

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false;Timeout=10;Command Timeout=120";

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")))
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDirectory}/initdb missing): install the Debian 'postgresql' package (apt-get install postgresql), or run ./build.sh test, which installs the test peers");
        Directory.CreateDirectory(_directory);
        await RunAsync("chown", "postgres:postgres", _directory);
        await AsPostgresAsync("initdb", "-D", DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
        File.AppendAllText(Path.Combine(DataDirectory, "postgresql.conf"), $"""

            listen_addresses = '127.0.0.1'
            port = {Port}
            unix_socket_directories = '{_directory}'
            wal_level = logical
            max_wal_senders = 20
            max_replication_slots = 20
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            shared_buffers = 64MB
            logical_decoding_work_mem = 64kB
            max_connections = 100
            """);
        await StartAsync();
    }

    public Task StartAsync() =>
        AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "start");

    public Task StopAsync(string mode = "fast") => AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop");

    public async Task DisposeAsync()
    {
        try { await StopAsync("immediate"); } catch (InvalidOperationException) { }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A database of its own for one test.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..10];
        await ExecuteAsync("postgres", $"CREATE DATABASE {name}");
        return name;
    }

    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T?> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var result = await command.ExecuteScalarAsync();
        return result is DBNull or null ? default : (T)result;
    }

    /// <summary>The <c>--cdc</c> value for a source named <paramref name="name"/> on <paramref name="database"/>.</summary>
    public string Source(string name, string database, string query) => $"{name}=postgres://postgres@127.0.0.1:{Port}/{database}?{query}";

    /// <summary>The slot's confirmed flush position, 0 when the slot does not exist.</summary>
    public async Task<ulong> ConfirmedFlushAsync(string db, string slot) =>
        Lsn(await ScalarAsync<string>(db, $"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{slot}'") ?? "0/0");

    /// <summary>Waits until the slot confirmed everything written so far (what a test wrote is then durable in the log).</summary>
    public async Task WaitSlotCaughtUpAsync(string db, string slot, TimeSpan timeout)
    {
        // Not pg_current_wal_lsn() alone: WAL that decodes to nothing (a page's padding, a checkpoint)
        // can follow the last commit, and the agent writes its own heartbeat only past 16 KiB of lag.
        // A heartbeat message after the current insert position is confirmed once everything before it is durable.
        var end = Lsn((await ScalarAsync<string>(db, "SELECT pg_current_wal_insert_lsn()::text"))!);
        await ScalarAsync<string>(db, "SELECT pg_logical_emit_message(false, 'edgestream.hb', '')::text");
        ulong confirmed = 0;
        var ok = await Wait.UntilAsync(async () => (confirmed = await ConfirmedFlushAsync(db, slot)) >= end, timeout, TimeSpan.FromMilliseconds(100));
        Assert.True(ok, $"slot {slot} confirmed {confirmed:X}, not {end:X}, within {timeout}");
    }

    public static ulong Lsn(string text)
    {
        var slash = text.IndexOf('/');
        return (Convert.ToUInt64(text[..slash], 16) << 32) | Convert.ToUInt64(text[(slash + 1)..], 16);
    }

    public string ServerLog => File.Exists(Path.Combine(_directory, "server.log")) ? File.ReadAllText(Path.Combine(_directory, "server.log")) : "";

    private Task AsPostgresAsync(string tool, params string[] args) =>
        RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, tool), .. args]);

    private static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;
