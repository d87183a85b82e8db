using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using EdgeStream.Common.Metrics;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Records;

namespace EdgeStream.Kafka.Server;

/// <summary>
/// The Kafka library's meter: requests per API and error code with their latency, open connections,
/// and what fetches hand out per topic. Label values come from small cached tables (API names, error
/// codes, capped topics) so recording allocates nothing.
/// </summary>
public static class KafkaMetrics
{
    public const string MeterName = "EdgeStream.Kafka";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("edgestream.kafka.requests", "{request}",
        "Kafka requests answered, per API and error code (the first non-zero error of the response, 0 when none).");
    private static readonly Histogram<double> RequestDuration = Meter.CreateHistogram("edgestream.kafka.request.duration", "s",
        "Time from a request's arrival to its response being ready (produce includes the fsync, fetch its long-poll), per API.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    private static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>("edgestream.kafka.connections", "{connection}",
        "Kafka client connections open now.");
    private static readonly Counter<long> RecordsOut = Meter.CreateCounter<long>("edgestream.topic.out.records", "{record}",
        "Records handed to Kafka consumers by fetch, per topic.");
    private static readonly Counter<long> BytesOut = Meter.CreateCounter<long>("edgestream.topic.out.bytes", "By",
        "Record-batch bytes handed to Kafka consumers by fetch, per topic.");

    private static readonly string[] ApiNames = BuildApiNames();
    private static readonly string[] ErrorCodes = BuildErrorCodes();

    internal static void ConnectionOpened() => Connections.Add(1);
    internal static void ConnectionClosed() => Connections.Add(-1);

    internal static void Answered(short apiKey, long startTimestamp, IKafkaMessage? response)
    {
        if (!Requests.Enabled && !RequestDuration.Enabled && !RecordsOut.Enabled) return;
        var api = new KeyValuePair<string, object?>("api", ApiName(apiKey));
        RequestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, api);
        var error = response is null ? (short)0 : FirstError(response);
        Requests.Add(1, api, new KeyValuePair<string, object?>("error_code", ErrorCodeLabel(error)));
        if (response is FetchResponse fetch && RecordsOut.Enabled) CountFetched(fetch);
    }

    private static void CountFetched(FetchResponse fetch)
    {
        foreach (var topic in fetch.Responses)
        {
            long records = 0, bytes = 0;
            foreach (var p in topic.Partitions)
            {
                if (p.Records is not { } data) continue;
                var span = data.Span;
                bytes += span.Length;
                // Whole batches only: a fetch may end with a partial batch the client discards.
                while (RecordBatchHeader.TryRead(span, out var h) && h.TotalSize <= span.Length)
                {
                    records += h.RecordCount;
                    span = span[h.TotalSize..];
                }
            }
            if (bytes == 0) continue;
            var tag = new KeyValuePair<string, object?>("topic", TopicLabels.For(topic.Topic.Length > 0 ? topic.Topic : "_unnamed"));
            RecordsOut.Add(records, tag);
            BytesOut.Add(bytes, tag);
        }
    }

    // The error a dashboard wants to see: the top-level one, else the first partition-level one.
    private static short FirstError(IKafkaMessage response)
    {
        switch (response)
        {
            case ProduceResponse produce:
                foreach (var t in produce.Responses)
                    foreach (var p in t.PartitionResponses)
                        if (p.ErrorCode != 0) return p.ErrorCode;
                return 0;
            case FetchResponse fetch:
                if (fetch.ErrorCode != 0) return fetch.ErrorCode;
                foreach (var t in fetch.Responses)
                    foreach (var p in t.Partitions)
                        if (p.ErrorCode != 0) return p.ErrorCode;
                return 0;
            default:
                return 0;
        }
    }

    private static string ApiName(short apiKey) =>
        (uint)apiKey < (uint)ApiNames.Length ? ApiNames[apiKey] : "Unknown";

    private static string ErrorCodeLabel(short code) =>
        code >= -1 && code + 1 < ErrorCodes.Length ? ErrorCodes[code + 1] : code.ToString(CultureInfo.InvariantCulture);

    private static string[] BuildApiNames()
    {
        var names = new string[100];
        for (var i = 0; i < names.Length; i++)
            names[i] = Enum.IsDefined((ApiKey)i) ? ((ApiKey)i).ToString() : "Unknown";
        return names;
    }

    private static string[] BuildErrorCodes()
    {
        var codes = new string[130];
        for (var i = 0; i < codes.Length; i++) codes[i] = (i - 1).ToString(CultureInfo.InvariantCulture);
        return codes;
    }
}
