namespace EdgeStream.Security.Authentication;

/// <summary>What one client message of a SASL exchange led to.</summary>
public enum SaslOutcome
{
    /// <summary>The challenge is to be sent and the client's next message awaited.</summary>
    Continue,
    /// <summary>Authenticated; the challenge (possibly empty) is the server's last word.</summary>
    Succeeded,
    /// <summary>Refused. Why is not said to the client: a wrong password and an unknown user look alike.</summary>
    Failed,
}

/// <summary>
/// The server side of one SASL exchange (RFC 4422 §3): the client's messages in, the server's
/// challenges out, until success or failure. Protocol-free: Kafka carries the messages in
/// SaslAuthenticate, another protocol could carry them elsewhere.
/// </summary>
public abstract class SaslServerExchange
{
    /// <summary>The mechanism's SASL name, e.g. <c>PLAIN</c>, <c>SCRAM-SHA-512</c>.</summary>
    public abstract string Mechanism { get; }

    /// <summary>The user the client claims, once its first message has been read; the authenticated user after success.</summary>
    public string? UserName { get; protected set; }

    /// <summary>Takes the client's next message; <paramref name="challenge"/> is what to answer with (empty on failure).</summary>
    public abstract SaslOutcome Evaluate(ReadOnlySpan<byte> response, out byte[] challenge);
}
