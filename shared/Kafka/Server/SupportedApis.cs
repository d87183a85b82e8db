using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

/// <summary>
/// The APIs and version ranges this broker answers, as ApiVersions reports them. Ranges are capped
/// where a newer version would change semantics we do not implement (Fetch v17 adds a replica
/// directory id only KRaft followers send; Produce/Fetch below v3/v4 carry the pre-v2 message
/// formats the log does not store). Fetch v13+ names topics by id, resolved through the catalog.
/// </summary>
public static class SupportedApis
{
    private static readonly (ApiKey Key, short Min, short Max)[] s_caps =
    [
        (ApiKey.Produce, 3, 11),
        (ApiKey.Fetch, 4, 16),
        (ApiKey.ListOffsets, 1, 8),
        (ApiKey.Metadata, 0, 12),
        (ApiKey.ApiVersions, 0, 4),
        (ApiKey.CreateTopics, 0, 7),
        (ApiKey.DeleteTopics, 0, 6),
        (ApiKey.CreatePartitions, 0, 3),
        (ApiKey.DescribeConfigs, 0, 4),
        (ApiKey.AlterConfigs, 0, 2),
        (ApiKey.IncrementalAlterConfigs, 0, 1),
        (ApiKey.DeleteRecords, 0, 2),
        (ApiKey.InitProducerId, 0, 5),
        (ApiKey.DescribeCluster, 0, 1),
        (ApiKey.DescribeLogDirs, 0, 4),
        // Consumer groups, classic protocol. FindCoordinator v6 adds share groups (key type 2).
        (ApiKey.FindCoordinator, 0, 5),
        (ApiKey.JoinGroup, 0, 9),
        (ApiKey.SyncGroup, 0, 5),
        (ApiKey.Heartbeat, 0, 4),
        (ApiKey.LeaveGroup, 0, 5),
        (ApiKey.OffsetCommit, 0, 9),
        (ApiKey.OffsetFetch, 0, 9),
        (ApiKey.ListGroups, 0, 5),
        (ApiKey.DescribeGroups, 0, 5),
        (ApiKey.DeleteGroups, 0, 2),
        (ApiKey.OffsetDelete, 0, 0),
        // The consumer group protocol (KIP-848), beside the classic one: group.protocol=consumer.
        (ApiKey.ConsumerGroupHeartbeat, 0, 1),
        (ApiKey.ConsumerGroupDescribe, 0, 0),
        // SASL: after SaslHandshake v1 tokens travel in SaslAuthenticate requests (KIP-152); after v0
        // as bare size-prefixed frames (KIP-43), which librdkafka needs advertised and kafka-python 2.0 sends.
        (ApiKey.SaslHandshake, 0, 1),
        (ApiKey.SaslAuthenticate, 0, 2),
        // User administration (KIP-554): super users, or Describe/Alter on the cluster with --authorizer on.
        (ApiKey.DescribeUserScramCredentials, 0, 0),
        (ApiKey.AlterUserScramCredentials, 0, 0),
        // ACL administration (KIP-140; prefixed patterns from v1, KIP-290).
        (ApiKey.CreateAcls, 0, 3),
        (ApiKey.DescribeAcls, 0, 3),
        (ApiKey.DeleteAcls, 0, 3),
        // Transactions (KIP-98). Capped below the KIP-890 part 2 versions (AddPartitionsToTxn v5,
        // AddOffsetsToTxn v4, EndTxn v5), which bump the epoch on every transaction; a client
        // then keeps the classic protocol. TxnOffsetCommit v4 is left out with them.
        (ApiKey.AddPartitionsToTxn, 0, 4),
        (ApiKey.AddOffsetsToTxn, 0, 3),
        (ApiKey.TxnOffsetCommit, 0, 3),
        (ApiKey.EndTxn, 0, 4),
        (ApiKey.ListTransactions, 0, 1),
        (ApiKey.DescribeTransactions, 0, 0),
    ];

    private static readonly Dictionary<short, (short Min, short Max)> s_ranges = Build();

    private static Dictionary<short, (short, short)> Build()
    {
        var map = new Dictionary<short, (short, short)>();
        foreach (var (key, min, max) in s_caps)
        {
            var lo = Math.Max(min, KafkaApis.LowestSupportedVersion(key));
            var hi = Math.Min(max, KafkaApis.HighestSupportedVersion(key));
            if (lo <= hi) map[(short)key] = ((short)lo, (short)hi);
        }
        return map;
    }

    public static bool IsSupported(short apiKey, short version) =>
        s_ranges.TryGetValue(apiKey, out var r) && version >= r.Min && version <= r.Max;

    public static List<ApiVersionsResponse.ApiVersion> ToResponse()
    {
        var list = new List<ApiVersionsResponse.ApiVersion>(s_ranges.Count);
        foreach (var (key, (min, max)) in s_ranges.OrderBy(kv => kv.Key))
            list.Add(new ApiVersionsResponse.ApiVersion { ApiKey = key, MinVersion = min, MaxVersion = max });
        return list;
    }
}
