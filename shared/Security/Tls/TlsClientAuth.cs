namespace EdgeStream.Security.Tls;

/// <summary>
/// Whether the Kafka and MQTT listeners ask TLS clients for a certificate (<c>--tls-client-auth</c>,
/// Kafka's <c>ssl.client.auth</c>). A certificate that is presented must chain to the fleet CA
/// (<see cref="TlsMaterial.Verify"/>) or the handshake fails.
/// </summary>
public enum TlsClientAuth
{
    /// <summary>Not asked for: every client is anonymous until SASL or an MQTT user name says otherwise.</summary>
    None,
    /// <summary>Asked for, optional: a client without one proceeds as with <see cref="None"/>.</summary>
    Requested,
    /// <summary>Asked for and needed: a client without one fails the handshake.</summary>
    Required,
}
