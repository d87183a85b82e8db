using System.Globalization;

namespace EdgeStream.Cdc;

/// <summary>When a source copies the rows a table already holds before streaming its changes.</summary>
public enum SnapshotMode
{
    /// <summary>Once per table: a table not snapshotted yet is (default).</summary>
    Initial,
    /// <summary>Never: only changes from the slot's start on.</summary>
    Never,
    /// <summary>As <see cref="Initial"/>, and every table again whenever the slot had to be created (it was lost).</summary>
    WhenNeeded,
}

/// <summary>
/// One CDC source: a PostgreSQL database and what to capture from it. Parsed from
/// <c>NAME=postgres://USER@HOST:PORT/DB?tables=s.t1,s.t2&amp;...</c>; the password never comes from
/// the URL (it would end up in logs and process lists) but from <c>passwordEnv</c> or <c>passwordFile</c>.
/// </summary>
public sealed record CdcSourceOptions
{
    public const long DefaultMaxSlotLag = 1L << 30;

    /// <summary>The source's name (1-64 of letters, digits, '_', '-'): topic prefix, slot and metadata keys derive from it.</summary>
    public required string Name { get; init; }
    public required string User { get; init; }
    public required string Host { get; init; }
    public int Port { get; init; } = 5432;
    public required string Database { get; init; }
    /// <summary>Tables as <c>schema.table</c>; empty when <see cref="Publication"/> names an existing publication.</summary>
    public IReadOnlyList<string> Tables { get; init; } = [];
    /// <summary>The publication streamed; created for <see cref="Tables"/> when missing. Default <c>edgestream_{name}</c>.</summary>
    public required string Publication { get; init; }
    /// <summary>True when the publication was named and is the operator's (its table list is not changed by us).</summary>
    public bool PublicationGiven { get; init; }
    /// <summary>Topic of table s.t = prefix + "s.t". Default <c>cdc.{name}.</c>.</summary>
    public required string TopicPrefix { get; init; }
    /// <summary>The logical replication slot. Default <c>edgestream_{name}</c>.</summary>
    public required string Slot { get; init; }
    public SnapshotMode Snapshot { get; init; } = SnapshotMode.Initial;
    /// <summary>Slot lag (bytes of WAL the slot holds) above which a warning is logged and exported. Default 1 GiB.</summary>
    public long MaxSlotLag { get; init; } = DefaultMaxSlotLag;
    /// <summary>Rows per snapshot chunk (the memory bound of a snapshot). Default 1024.</summary>
    public int ChunkRows { get; init; } = 1024;
    /// <summary>How often the slot lag is measured and, on an idle slot, a heartbeat written. Default 10 s.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(10);
    public string? PasswordEnv { get; init; }
    public string? PasswordFile { get; init; }

    /// <summary>The source as given, without any secret: safe for logs and status.</summary>
    public string Describe() => $"{Name}=postgres://{User}@{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/{Database}";

    /// <summary>The password from <see cref="PasswordEnv"/> or <see cref="PasswordFile"/>, or null (trust / .pgpass).</summary>
    public string? ReadPassword()
    {
        if (PasswordEnv is not null)
            return Environment.GetEnvironmentVariable(PasswordEnv)
                ?? throw new CdcSetupException($"CDC source '{Name}': environment variable {PasswordEnv} (passwordEnv) is not set; export it with the database password.");
        if (PasswordFile is not null)
        {
            try
            {
                return File.ReadAllText(PasswordFile).TrimEnd('\r', '\n');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CdcSetupException($"CDC source '{Name}': cannot read passwordFile {PasswordFile}: {ex.Message}", ex);
            }
        }
        return null;
    }

    /// <summary>
    /// Parses <c>NAME=postgres://USER@HOST[:PORT]/DB?key=value&amp;...</c>. Keys: tables, publication,
    /// topicPrefix, slot, snapshot (initial|never|when-needed), maxSlotLag (bytes or 1GiB-style),
    /// chunkRows, heartbeat (e.g. 10s, 500ms), passwordEnv, passwordFile. Throws <see cref="FormatException"/>
    /// whose message says what was expected.
    /// </summary>
    public static CdcSourceOptions Parse(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0) throw new FormatException("expected NAME=postgres://USER@HOST:PORT/DB?tables=schema.table,...");
        var name = text[..eq].Trim();
        if (name.Length is < 1 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            throw new FormatException($"source name '{name}': expected 1-64 of letters, digits, '_' and '-'");
        var url = text[(eq + 1)..].Trim();
        const string scheme = "postgres://", scheme2 = "postgresql://";
        string rest = url.StartsWith(scheme, StringComparison.Ordinal) ? url[scheme.Length..]
            : url.StartsWith(scheme2, StringComparison.Ordinal) ? url[scheme2.Length..]
            : throw new FormatException($"source '{name}': expected a postgres:// URL after '='");
        var q = rest.IndexOf('?');
        var query = q >= 0 ? rest[(q + 1)..] : "";
        if (q >= 0) rest = rest[..q];
        var at = rest.IndexOf('@');
        if (at <= 0) throw new FormatException($"source '{name}': expected USER@ before the host");
        var user = Uri.UnescapeDataString(rest[..at]);
        if (user.Contains(':'))
            throw new FormatException($"source '{name}': no password in the URL (it would be logged); use passwordEnv=VAR or passwordFile=PATH");
        rest = rest[(at + 1)..];
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1) throw new FormatException($"source '{name}': expected HOST:PORT/DB");
        var database = Uri.UnescapeDataString(rest[(slash + 1)..]);
        var hostPort = rest[..slash];
        var port = 5432;
        var host = hostPort;
        var colon = hostPort.LastIndexOf(':');
        if (colon > 0 && !hostPort.EndsWith(']'))
        {
            host = hostPort[..colon];
            if (!int.TryParse(hostPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                throw new FormatException($"source '{name}': expected a port from 1 to 65535");
        }

        var tables = new List<string>();
        string? publication = null, prefix = null, slot = null, passwordEnv = null, passwordFile = null;
        var snapshot = SnapshotMode.Initial;
        var maxLag = DefaultMaxSlotLag;
        var chunk = 1024;
        var heartbeat = TimeSpan.FromSeconds(10);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var e = pair.IndexOf('=');
            var key = e > 0 ? pair[..e] : pair;
            var value = e > 0 ? Uri.UnescapeDataString(pair[(e + 1)..]) : "";
            switch (key)
            {
                case "tables":
                    foreach (var t in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        tables.Add(QualifiedTable(name, t));
                    break;
                case "publication": publication = Identifier(name, key, value); break;
                case "slot": slot = Identifier(name, key, value).ToLowerInvariant(); break;
                case "topicPrefix": prefix = value; break;
                case "snapshot":
                    snapshot = value switch
                    {
                        "initial" => SnapshotMode.Initial,
                        "never" => SnapshotMode.Never,
                        "when-needed" => SnapshotMode.WhenNeeded,
                        _ => throw new FormatException($"source '{name}': snapshot: expected initial, never or when-needed"),
                    };
                    break;
                case "maxSlotLag":
                    if (!ByteSize.TryParse(value, out maxLag) || maxLag <= 0) throw new FormatException($"source '{name}': maxSlotLag: expected a size such as 1GiB");
                    break;
                case "chunkRows":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out chunk) || chunk is < 1 or > 1_000_000)
                        throw new FormatException($"source '{name}': chunkRows: expected a whole number from 1 to 1000000");
                    break;
                case "heartbeat":
                    if (!DurationText.TryParse(value, out heartbeat) || heartbeat <= TimeSpan.Zero) throw new FormatException($"source '{name}': heartbeat: expected a duration such as 10s");
                    break;
                case "passwordEnv": passwordEnv = value; break;
                case "passwordFile": passwordFile = value; break;
                default:
                    throw new FormatException($"source '{name}': unknown option '{key}' (expected tables, publication, topicPrefix, slot, snapshot, maxSlotLag, chunkRows, heartbeat, passwordEnv, passwordFile)");
            }
        }
        if (tables.Count == 0 && publication is null)
            throw new FormatException($"source '{name}': expected tables=schema.table,... or publication=NAME");
        var safe = name.Replace('-', '_').ToLowerInvariant();
        prefix ??= $"cdc.{name}.";
        if (prefix.Length > 200 || prefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            throw new FormatException($"source '{name}': topicPrefix: expected letters, digits, '.', '_' and '-'");
        return new CdcSourceOptions
        {
            Name = name,
            User = user,
            Host = host.Trim('[', ']'),
            Port = port,
            Database = database,
            Tables = tables,
            Publication = publication ?? $"edgestream_{safe}",
            PublicationGiven = publication is not null,
            TopicPrefix = prefix,
            Slot = slot ?? $"edgestream_{safe}",
            Snapshot = snapshot,
            MaxSlotLag = maxLag,
            ChunkRows = chunk,
            Heartbeat = heartbeat,
            PasswordEnv = passwordEnv,
            PasswordFile = passwordFile,
        };
    }

    /// <summary><paramref name="text"/> with any password between "://user:" and "@" replaced by ***, for messages.</summary>
    public static string Redact(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, "(://[^:/@]*:)[^@/]*@", "$1***@");

    private static string QualifiedTable(string source, string table)
    {
        var parts = table.Split('.');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            throw new FormatException($"source '{source}': table '{table}': expected schema.table, e.g. public.orders");
        Identifier(source, "tables", parts[0]);
        Identifier(source, "tables", parts[1]);
        return table;
    }

    private static string Identifier(string source, string key, string value)
    {
        if (value.Length is < 1 or > 63 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_'))
            throw new FormatException($"source '{source}': {key}: '{value}' is not a plain identifier (1-63 of letters, digits, '_')");
        return value;
    }
}
