namespace EdgeStream.Records;

/// <summary>Root of the record-batch library's exceptions.</summary>
public class RecordsException : EdgeStreamException
{
    public RecordsException(string message) : base(message) { }
    public RecordsException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Thrown when a record batch's contents do not decode. Framing, not I/O.</summary>
public sealed class CorruptRecordException : RecordsException
{
    public CorruptRecordException(string message) : base(message) { }
}
