using System.Text.Json;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Observability.Tests;

/// <summary>
/// The uplink's figures along edge → gateway → cloud, compared with what was produced: every hop counts each
/// record once, and the fleet reports that travel the same links never show up in the data's counts.
/// </summary>
public sealed class HierarchyMetricsTests
{
    private const int Records = 300;

    [Fact]
    public async Task EachHop_CountsEveryRecordOnce_AndFleetReportsStayOutOfTheDataCounts()
    {
        using var dir = new TempDirectory();
        await using var tiers = await ThreeTierFleet.StartAsync(dir, "10s", "--partitions", "2");
        var (cloud, gateway, edge) = (tiers.Cloud, tiers.Gateway, tiers.Edge);
        string gatewayId = tiers.GatewayId, edgeId = tiers.EdgeId;
        var topic = Unique.Name("hops");
        Scrape.Produce(edge, topic, Records, 200);

        // The records reach the cloud, and the edge's reports reach it through the gateway (several of them by then).
        List<Sample> atCloud = [];
        Assert.True(await Wait.UntilAsync(async () =>
            {
                atCloud = Scrape.Parse(await Scrape.MetricsTextAsync(cloud));
                return Scrape.Sum(atCloud, "edgestream_topic_in_records_total", ("topic", topic)) >= Records
                    && await HeardOfAsync(cloud, edgeId, gatewayId);
            }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250)),
            "the cloud never held the records and the edge's report: " + Scrape.Sum(atCloud, "edgestream_topic_in_records_total", ("topic", topic)));
        Assert.True(await Wait.UntilAsync(() => edge.UplinkDrainedAsync(topic), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250)), "the edge never saw its records acknowledged");
        Assert.True(await Wait.UntilAsync(() => gateway.UplinkDrainedAsync(topic), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250)), "the gateway never saw its records acknowledged");

        // A consumer at the edge reads the topic once.
        Assert.Equal(Records, ConsumeAll(edge, topic));

        var atEdge = Scrape.Parse(await Scrape.MetricsTextAsync(edge));
        var atGateway = Scrape.Parse(await Scrape.MetricsTextAsync(gateway));
        atCloud = Scrape.Parse(await Scrape.MetricsTextAsync(cloud));

        // The edge: sent and acknowledged exactly what was produced; no lag left; every acknowledgement timed.
        var edgeParent = ("parent", $"127.0.0.1:{gateway.UplinkPort}");
        Assert.Equal(Records, Scrape.Sum(atEdge, "edgestream_topic_in_records_total", ("topic", topic)));
        Assert.Equal(Records, Scrape.Sum(atEdge, "edgestream_uplink_sent_records_total", edgeParent));
        Assert.Equal(Records, Scrape.Sum(atEdge, "edgestream_uplink_acked_records_total", edgeParent));
        Assert.Equal(0, Scrape.Sum(atEdge, "edgestream_uplink_lag_records", ("topic", topic)));
        Assert.Equal(0, Scrape.Sum(atEdge, "edgestream_uplink_lag_bytes", ("topic", topic)));
        Assert.Equal(1, Scrape.Sum(atEdge, "edgestream_uplink_connected", edgeParent));
        var edgeFrames = Scrape.Sum(atEdge, "edgestream_uplink_sent_frames_total", edgeParent);
        Assert.True(edgeFrames >= 1);

        // The gateway, per child: the frames the edge had acknowledged (the reports are not frames), its records
        // written once (sent = written + duplicates dropped), no refusal; and it forwarded the same count up.
        var fromEdge = ("child", edgeId);
        var ackedFrames = Scrape.Sum(atEdge, "edgestream_uplink_ack_duration_seconds_count", edgeParent);
        Assert.Equal(ackedFrames, Scrape.Sum(atGateway, "edgestream_uplink_child_frames_total", fromEdge));
        Assert.Equal(Records, Scrape.Sum(atGateway, "edgestream_uplink_child_records_total", fromEdge));
        Assert.Equal(Scrape.Sum(atEdge, "edgestream_uplink_sent_records_total", edgeParent),
            Scrape.Sum(atGateway, "edgestream_uplink_child_records_total", fromEdge) + Scrape.Sum(atGateway, "edgestream_uplink_child_duplicate_records_total", fromEdge));
        Assert.Equal(0, Scrape.Sum(atGateway, "edgestream_uplink_child_refusals_total", fromEdge));
        Assert.Equal(1, Scrape.Sum(atGateway, "edgestream_uplink_children_connected"));
        Assert.Equal(Records, Scrape.Sum(atGateway, "edgestream_topic_in_records_total", ("topic", topic)));
        Assert.Equal(Records, Scrape.Sum(atGateway, "edgestream_uplink_acked_records_total", ("parent", $"127.0.0.1:{cloud.UplinkPort}")));

        // The cloud: the gateway's child, the same records once.
        Assert.Equal(Records, Scrape.Sum(atCloud, "edgestream_uplink_child_records_total", ("child", gatewayId)));
        Assert.Equal(Records, Scrape.Sum(atCloud, "edgestream_topic_in_records_total", ("topic", topic)));
        Assert.Equal(0, Scrape.Sum(atCloud, "edgestream_uplink_child_refusals_total"));

        // Fetches at the edge: the records handed to the consumer, and whole batches, so the bytes are the partitions' bytes.
        Assert.Equal(Records, Scrape.Sum(atEdge, "edgestream_topic_out_records_total", ("topic", topic)));
        Assert.Equal(Scrape.Sum(atEdge, "edgestream_partition_size_bytes", ("topic", topic)), Scrape.Sum(atEdge, "edgestream_topic_out_bytes_total", ("topic", topic)));
    }

    private static async Task<bool> HeardOfAsync(AgentNode cloud, string edgeId, string gatewayId)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var doc = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{cloud.HttpPort}/v1/fleet"));
        return doc.RootElement.GetProperty("nodes").EnumerateArray().Any(n =>
            n.GetProperty("nodeId").GetString() == edgeId && n.GetProperty("parentId").GetString() == gatewayId && n.GetProperty("state").GetString() == "ok");
    }

    private static int ConsumeAll(AgentNode node, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = node.Bootstrap,
            GroupId = Unique.Name("reader"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            BrokerAddressFamily = BrokerAddressFamily.V4,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        var seen = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (seen < Records && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { IsPartitionEOF: false, Message: not null }) seen++;
        }
        consumer.Close();
        return seen;
    }
}
