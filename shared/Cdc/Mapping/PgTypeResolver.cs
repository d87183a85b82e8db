using System.Collections.Concurrent;
using Npgsql;

namespace EdgeStream.Cdc.Mapping;

/// <summary>
/// Resolves a column's type oid to its JSON mapping: built-in types from the table in
/// <see cref="PgTypeInfo.BuiltIn"/>, others (enums, domains, arrays of them, extension types) from
/// <c>pg_type</c> once per oid: a domain maps as its base type, an enum as a string.
/// </summary>
public sealed class PgTypeResolver
{
    private readonly NpgsqlDataSource _database;
    private readonly ConcurrentDictionary<uint, PgTypeInfo> _cache = new();

    public PgTypeResolver(NpgsqlDataSource database) => _database = database;

    public async ValueTask<PgTypeInfo> ResolveAsync(uint oid, CancellationToken cancellationToken)
    {
        if (PgTypeInfo.BuiltIn(oid) is { } builtIn) return builtIn;
        if (_cache.TryGetValue(oid, out var cached)) return cached;
        var resolved = await LookUpAsync(oid, depth: 0, cancellationToken).ConfigureAwait(false);
        _cache[oid] = resolved;
        return resolved;
    }

    private async ValueTask<PgTypeInfo> LookUpAsync(uint oid, int depth, CancellationToken cancellationToken)
    {
        if (PgTypeInfo.BuiltIn(oid) is { } builtIn) return builtIn;
        if (depth > 8) return PgTypeInfo.Text;
        await using var command = _database.CreateCommand(
            "SELECT typtype::text, typbasetype::int8, typelem::int8, typcategory::text, typdelim::text FROM pg_type WHERE oid = $1::int8::oid");
        command.Parameters.Add(new NpgsqlParameter { Value = (long)oid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return PgTypeInfo.Text;
        var typtype = reader.GetString(0);
        var baseType = (uint)reader.GetInt64(1);
        var element = (uint)reader.GetInt64(2);
        var category = reader.GetString(3);
        var delimiter = reader.GetString(4);
        await reader.DisposeAsync().ConfigureAwait(false);
        if (typtype == "d") return await LookUpAsync(baseType, depth + 1, cancellationToken).ConfigureAwait(false);
        if (category == "A" && element != 0)
            return new PgTypeInfo(PgTypeKind.Array, await LookUpAsync(element, depth + 1, cancellationToken).ConfigureAwait(false), delimiter.Length == 1 ? delimiter[0] : ',');
        return PgTypeInfo.Text;
    }
}
