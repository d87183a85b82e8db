namespace EdgeStream.Kafka.Client;

/// <summary>Names of the Kafka error codes (protocol guide, "Error Codes") a client is likely to meet.</summary>
public static class KafkaErrors
{
    public const short None = 0;
    public const short OffsetOutOfRange = 1;
    public const short UnknownTopicOrPartition = 3;
    public const short LeaderNotAvailable = 5;
    public const short NotLeaderOrFollower = 6;
    public const short RequestTimedOut = 7;
    public const short TopicAlreadyExists = 36;
    public const short UnsupportedVersion = 35;
    public const short NotController = 41;
    public const short FencedLeaderEpoch = 74;
    public const short UnknownLeaderEpoch = 75;
    public const short OffsetNotAvailable = 78;
    public const short CoordinatorLoadInProgress = 14;
    public const short CoordinatorNotAvailable = 15;
    public const short NotCoordinator = 16;
    public const short IllegalGeneration = 22;
    public const short UnknownMemberId = 25;
    public const short RebalanceInProgress = 27;
    public const short NonEmptyGroup = 68;
    public const short GroupIdNotFound = 69;
    public const short MemberIdRequired = 79;
    public const short UnsupportedSaslMechanism = 33;
    public const short IllegalSaslState = 34;
    public const short SaslAuthenticationFailed = 58;

    /// <summary>The broker refused this client's SASL settings: a retry with the same ones fails the same way.</summary>
    public static bool IsAuthenticationError(short code) => code is UnsupportedSaslMechanism or IllegalSaslState or SaslAuthenticationFailed;

    /// <summary>The group coordinator moved or is starting: find it again and retry.</summary>
    public static bool IsCoordinatorError(short code) => code is CoordinatorLoadInProgress or CoordinatorNotAvailable or NotCoordinator;

    public static string Name(short code) => code switch
    {
        -1 => "UNKNOWN_SERVER_ERROR",
        0 => "NONE",
        1 => "OFFSET_OUT_OF_RANGE",
        2 => "CORRUPT_MESSAGE",
        3 => "UNKNOWN_TOPIC_OR_PARTITION",
        4 => "INVALID_FETCH_SIZE",
        5 => "LEADER_NOT_AVAILABLE",
        6 => "NOT_LEADER_OR_FOLLOWER",
        7 => "REQUEST_TIMED_OUT",
        10 => "MESSAGE_TOO_LARGE",
        13 => "NETWORK_EXCEPTION",
        14 => "COORDINATOR_LOAD_IN_PROGRESS",
        15 => "COORDINATOR_NOT_AVAILABLE",
        16 => "NOT_COORDINATOR",
        17 => "INVALID_TOPIC_EXCEPTION",
        18 => "RECORD_LIST_TOO_LARGE",
        19 => "NOT_ENOUGH_REPLICAS",
        20 => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        21 => "INVALID_REQUIRED_ACKS",
        22 => "ILLEGAL_GENERATION",
        23 => "INCONSISTENT_GROUP_PROTOCOL",
        24 => "INVALID_GROUP_ID",
        25 => "UNKNOWN_MEMBER_ID",
        26 => "INVALID_SESSION_TIMEOUT",
        27 => "REBALANCE_IN_PROGRESS",
        28 => "INVALID_COMMIT_OFFSET_SIZE",
        29 => "TOPIC_AUTHORIZATION_FAILED",
        30 => "GROUP_AUTHORIZATION_FAILED",
        31 => "CLUSTER_AUTHORIZATION_FAILED",
        32 => "INVALID_TIMESTAMP",
        33 => "UNSUPPORTED_SASL_MECHANISM",
        34 => "ILLEGAL_SASL_STATE",
        35 => "UNSUPPORTED_VERSION",
        36 => "TOPIC_ALREADY_EXISTS",
        37 => "INVALID_PARTITIONS",
        38 => "INVALID_REPLICATION_FACTOR",
        39 => "INVALID_REPLICA_ASSIGNMENT",
        40 => "INVALID_CONFIG",
        41 => "NOT_CONTROLLER",
        42 => "INVALID_REQUEST",
        43 => "UNSUPPORTED_FOR_MESSAGE_FORMAT",
        44 => "POLICY_VIOLATION",
        45 => "OUT_OF_ORDER_SEQUENCE_NUMBER",
        46 => "DUPLICATE_SEQUENCE_NUMBER",
        47 => "INVALID_PRODUCER_EPOCH",
        56 => "KAFKA_STORAGE_ERROR",
        58 => "SASL_AUTHENTICATION_FAILED",
        59 => "UNKNOWN_PRODUCER_ID",
        68 => "NON_EMPTY_GROUP",
        69 => "GROUP_ID_NOT_FOUND",
        73 => "TOPIC_DELETION_DISABLED",
        74 => "FENCED_LEADER_EPOCH",
        75 => "UNKNOWN_LEADER_EPOCH",
        78 => "OFFSET_NOT_AVAILABLE",
        79 => "MEMBER_ID_REQUIRED",
        81 => "GROUP_MAX_SIZE_REACHED",
        82 => "FENCED_INSTANCE_ID",
        86 => "GROUP_SUBSCRIBED_TO_TOPIC",
        88 => "UNSTABLE_OFFSET_COMMIT",
        87 => "INVALID_RECORD",
        100 => "UNKNOWN_TOPIC_ID",
        _ => $"error code {code}",
    };

    /// <summary>Errors that go away after a metadata refresh or a moment (Kafka marks them retriable).</summary>
    /// <summary>
    /// A fetch of <paramref name="partition"/> failed with <paramref name="code"/>: returns when the caller may
    /// refresh metadata and fetch again (retriable, at most 10 times in a row), throws otherwise.
    /// </summary>
    public static void RetryOrThrow(short code, ref int retries, string topic, int partition)
    {
        if (!IsRetriable(code) || ++retries > 10)
            throw KafkaClientException.FromBroker(code, $"a fetch of '{topic}' partition {partition}");
    }

    public static bool IsRetriable(short code) => code is LeaderNotAvailable or NotLeaderOrFollower or RequestTimedOut
        or UnknownTopicOrPartition or NotController or FencedLeaderEpoch or UnknownLeaderEpoch or OffsetNotAvailable
        or 19 or 20 or 13 or 56;
}
