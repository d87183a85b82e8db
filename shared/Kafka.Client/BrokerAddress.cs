using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace EdgeStream.Kafka.Client;

/// <summary>A broker's <c>HOST:PORT</c>; an IPv6 host is written in brackets: <c>[::1]:9092</c>.</summary>
public readonly record struct BrokerAddress(string Host, int Port)
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out BrokerAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the broker address is empty; expected HOST:PORT";
            return false;
        }
        text = text.Trim();
        string host;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"'{text}' is not HOST:PORT (an IPv6 host is written [::1]:9092)";
                return false;
            }
            host = text[1..close];
            portText = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"'{text}' is not HOST:PORT (for example localhost:9092)";
                return false;
            }
            host = text[..colon];
            portText = text[(colon + 1)..];
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            error = $"'{text}' has no valid port (1-65535)";
            return false;
        }
        address = new BrokerAddress(host, port);
        error = null;
        return true;
    }

    public static BrokerAddress Parse(string text) =>
        TryParse(text, out var address, out var error) ? address.Value : throw new KafkaClientException(error);

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
