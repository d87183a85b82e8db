namespace EdgeStream.Cdc;

/// <summary>Root of the CDC library's exceptions (configuration of a source, capture, snapshot).</summary>
public class CdcException : EdgeStreamException
{
    public CdcException(string message) : base(message) { }
    public CdcException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The database refuses what the source asks for in a way a retry cannot fix (no such table,
/// <c>wal_level</c> not logical, a missing privilege): the message names the fix. The source is
/// marked failed and retried slowly, in case the operator fixes the database meanwhile.
/// </summary>
public sealed class CdcSetupException : CdcException
{
    public CdcSetupException(string message) : base(message) { }
    public CdcSetupException(string message, Exception inner) : base(message, inner) { }
}
