namespace EdgeStream.Security;

/// <summary>A certificate or key that cannot be created, read or used, with the reason in words a user can act on.</summary>
public sealed class SecurityException : EdgeStreamException
{
    public SecurityException(string message) : base(message) { }
    public SecurityException(string message, Exception inner) : base(message, inner) { }
}
