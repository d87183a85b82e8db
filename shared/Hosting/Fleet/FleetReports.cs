using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Kafka;
using EdgeStream.Hosting.Storage;
using EdgeStream.Kafka.Server;
using EdgeStream.Uplink.Grpc;
using EdgeStream.Uplink.Sending;

namespace EdgeStream.Hosting.Fleet;

/// <summary>This node's own fleet report, built from the figures <c>/v1/status</c> shows.</summary>
public static class FleetReports
{
    public static NodeReport Own(NodeContext node, StorageState storage, UplinkStatus? uplink, KafkaBroker? broker)
    {
        var report = new NodeReport
        {
            NodeId = node.NodeId,
            Role = node.Role.ToText(),
            Version = node.Version,
            StartedAtMs = node.StartedAt.ToUnixTimeMilliseconds(),
        };
        if (storage.Manager is { } manager)
        {
            report.DiskUsedBytes = manager.UsedBytes;
            report.DiskBudgetBytes = manager.MaxDiskBytes;
            report.DroppedRecords = manager.Dropped.Records;
            var topics = manager.Topics;
            report.Topics = topics.Count;
            long records = 0;
            foreach (var topic in topics)
                foreach (var p in topic.Partitions) records += p.LogEndOffset;
            report.RecordsIn = records;
            if (broker is not null)
            {
                // A parent's dashboard shows a node's groups as a count and their total lag (the names stay on the node).
                report.Groups = broker.Groups.ListGroups().Count;
                report.GroupLagRecords = ConsumerGroupLag.Compute(broker, manager).Sum(static g => g.Lag);
            }
        }
        if (uplink is not null)
        {
            var snapshot = uplink.Snapshot();
            report.ParentAddress = snapshot.Parent ?? "";
            report.ParentConnected = snapshot.Connected;
            report.BacklogRecords = snapshot.BacklogRecords;
            report.BacklogBytes = snapshot.BacklogBytes;
            report.BacklogAgeSeconds = snapshot.BacklogAgeSeconds;
            report.RecordsSent = snapshot.RecordsSent;
            report.LastError = snapshot.LastError ?? "";
        }
        return report;
    }
}
