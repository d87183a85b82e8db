namespace EdgeStream.Cdc.Records;

/// <summary>What the envelope's <c>source</c> block says about where a change came from.</summary>
public readonly record struct CdcSourceInfo(string Name, string Database, ulong Lsn, uint TxId, long CommitMillis, bool Snapshot);

/// <summary>Debezium's operation codes.</summary>
public enum CdcOp : byte
{
    Create = (byte)'c',
    Update = (byte)'u',
    Delete = (byte)'d',
    Read = (byte)'r',
    Truncate = (byte)'t',
}
