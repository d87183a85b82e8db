using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DescribeLogDirs (KIP-113; total/usable bytes KIP-827 in v4): a node has one log directory.
    // Every partition asked for (all when Topics is null) is listed with its size on disk; there
    // are no replicas to lag behind and no future (moving) replicas. Topics or partitions that do
    // not exist are left out, as Kafka does. With --max-disk, the budget bounds total and usable.
    // With ACLs: Describe on the cluster, else no directory at all and (v3+) CLUSTER_AUTHORIZATION_FAILED, as Kafka answers.
    private DescribeLogDirsResponse HandleDescribeLogDirs(KafkaRequestContext context, DescribeLogDirsRequest request)
    {
        if (!AuthorizedOnCluster(context, AclOperation.Describe))
            return new DescribeLogDirsResponse { ErrorCode = (short)KafkaErrorCode.ClusterAuthorizationFailed };
        var log = Log;
        var dir = new DescribeLogDirsResponse.DescribeLogDirsResult { ErrorCode = 0, LogDir = Path.GetFullPath(log.Options.LogDirectory) };
        var response = new DescribeLogDirsResponse { Results = [dir] };
        if (request.Topics is null)
        {
            foreach (var topic in log.Topics.OrderBy(t => t.Name, StringComparer.Ordinal))
                dir.Topics.Add(DescribeTopicDir(topic, null));
        }
        else
        {
            foreach (var wanted in request.Topics)
                if (log.TryGetTopic(wanted.Topic, out var topic) && DescribeTopicDir(topic!, wanted.Partitions) is { Partitions.Count: > 0 } entry)
                    dir.Topics.Add(entry);
        }
        if (context.Version >= 4) (dir.TotalBytes, dir.UsableBytes) = DiskSpace(log);
        return response;
    }

    private static DescribeLogDirsResponse.DescribeLogDirsTopic DescribeTopicDir(TopicLog topic, List<int>? partitions)
    {
        var entry = new DescribeLogDirsResponse.DescribeLogDirsTopic { Name = topic.Name };
        var all = topic.Partitions;
        if (partitions is null)
        {
            foreach (var p in all) entry.Partitions.Add(DescribePartitionDir(p));
        }
        else
        {
            foreach (var index in partitions)
                if (index >= 0 && index < all.Count) entry.Partitions.Add(DescribePartitionDir(all[index]));
        }
        return entry;
    }

    private static DescribeLogDirsResponse.DescribeLogDirsPartition DescribePartitionDir(PartitionLog partition) => new()
    {
        PartitionIndex = partition.Partition,
        PartitionSize = partition.SizeBytes,
        OffsetLag = 0,
        IsFutureKey = false,
    };

    /// <summary>Total and usable bytes of the log's file system, bounded by the node's disk budget; -1 when unknown.</summary>
    private static (long Total, long Usable) DiskSpace(LogManager log)
    {
        long total = -1, usable = -1;
        try
        {
            var drive = new DriveInfo(Path.GetFullPath(log.Options.LogDirectory));
            total = drive.TotalSize;
            usable = drive.AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Not every platform or mount answers; Kafka's "unknown" is -1.
        }
        if (log.MaxDiskBytes > 0)
        {
            var budgetLeft = Math.Max(0, log.MaxDiskBytes - log.UsedBytes);
            total = total < 0 ? log.MaxDiskBytes : Math.Min(total, log.MaxDiskBytes);
            usable = usable < 0 ? budgetLeft : Math.Min(usable, budgetLeft);
        }
        return (total, usable);
    }
}
