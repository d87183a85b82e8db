namespace EdgeStream.Metadata;

/// <summary>
/// The root of the metadata library's exceptions; thrown itself when the store fails in a way an
/// operator must act on (locked, unreadable, corrupt).
/// </summary>
public class MetadataException : EdgeStreamException
{
    public MetadataException(string message) : base(message) { }
    public MetadataException(string message, Exception inner) : base(message, inner) { }
}
