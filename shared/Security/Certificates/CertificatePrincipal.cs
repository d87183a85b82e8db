using System.Security.Cryptography.X509Certificates;

namespace EdgeStream.Security.Certificates;

/// <summary>
/// The principal a verified client certificate authenticates, on the Kafka and MQTT listeners alike
/// (ACLs are written once for both): <c>User:NODE_ID</c> when the certificate names a node
/// (<see cref="NodeIdentity"/>, what <c>edgestream certs issue</c> writes), else <c>User:CN</c> — the
/// subject's common name, as mosquitto's <c>use_identity_as_username</c> — and, for a subject without
/// one, <c>User:</c> and the whole distinguished name, Kafka's default SSL principal.
/// </summary>
public static class CertificatePrincipal
{
    private const string CommonNameOid = "2.5.4.3";

    public static string Of(X509Certificate2 certificate) => "User:" + NameOf(certificate);

    /// <summary>The name without the <c>User:</c> type, as MQTT's user name.</summary>
    public static string NameOf(X509Certificate2 certificate)
    {
        if (NodeIdentity.NodeIdOf(certificate) is { } nodeId) return nodeId;
        // The first CN attribute, as mosquitto reads it; multi-valued RDNs hold no CN of ours.
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == CommonNameOid && rdn.GetSingleElementValue() is { Length: > 0 } commonName)
                return commonName;
        }
        return certificate.Subject;
    }
}
