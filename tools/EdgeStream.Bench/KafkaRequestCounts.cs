using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeStream.Bench;

/// <summary>
/// The agent's Kafka requests by API, read from its <c>/metrics</c> (<c>edgestream_kafka_requests_total</c>): how many
/// produce and fetch requests a run took tells whether its CPU per record moved with the requests' sizes (records per
/// request) rather than with the work per record.
/// </summary>
public static partial class KafkaRequestCounts
{
    public static async Task<Dictionary<string, double>> ReadAsync(int httpPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync($"http://127.0.0.1:{httpPort}/metrics");
        var byApi = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in Sample().Matches(text))
        {
            var api = m.Groups["api"].Value;
            byApi[api] = byApi.GetValueOrDefault(api) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return byApi;
    }

    /// <summary>"Produce 12.3, Fetch 45.6 per 1 000 records" for the APIs that carry data.</summary>
    public static string PerThousand(Dictionary<string, double> before, Dictionary<string, double> after, long records)
    {
        string One(string api) => ((after.GetValueOrDefault(api) - before.GetValueOrDefault(api)) * 1000 / records).ToString("N1", CultureInfo.InvariantCulture);
        return $"requests per 1 000 records: Produce {One("Produce")}, Fetch {One("Fetch")}";
    }

    [GeneratedRegex("""^edgestream_kafka_requests_total\{[^}]*api="(?<api>[A-Za-z]+)"[^}]*\} (?<value>[0-9.eE+]+)""", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
