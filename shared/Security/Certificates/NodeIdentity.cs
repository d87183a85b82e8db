using System.Security.Cryptography.X509Certificates;

namespace EdgeStream.Security.Certificates;

/// <summary>
/// How a certificate names the node it was issued to: a URI subject alternative name
/// <c>edgestream://node/{nodeId}</c> (what a parent compares with the origin a child claims), with
/// the node id also as the subject's common name for people reading it.
/// </summary>
public static class NodeIdentity
{
    public const string UriPrefix = "edgestream://node/";

    public static string Uri(string nodeId) => UriPrefix + nodeId;

    /// <summary>The node id in <paramref name="certificate"/>'s URI SAN; null when it names no node.</summary>
    public static string? NodeIdOf(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is not X509SubjectAlternativeNameExtension san) continue;
            foreach (var name in Names(san))
                if (name.StartsWith(UriPrefix, StringComparison.Ordinal) && name.Length > UriPrefix.Length)
                    return name[UriPrefix.Length..];
        }
        return null;
    }

    /// <summary>The subject alternative names as text: DNS names, IP addresses and URIs.</summary>
    public static IEnumerable<string> Names(X509SubjectAlternativeNameExtension san)
    {
        foreach (var dns in san.EnumerateDnsNames()) yield return dns;
        foreach (var ip in san.EnumerateIPAddresses()) yield return ip.ToString();
        // .NET enumerates DNS and IP names only; URIs are read from the DER (context tag [6], IA5String).
        var reader = new System.Formats.Asn1.AsnReader(san.RawData, System.Formats.Asn1.AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        var uriTag = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6);
        while (sequence.HasData)
        {
            var tag = sequence.PeekTag();
            if (tag.HasSameClassAndValue(uriTag)) yield return sequence.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uriTag);
            else sequence.ReadEncodedValue();
        }
    }
}
