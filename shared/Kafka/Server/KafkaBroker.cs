using EdgeStream.Kafka.Fetch;
using System.Buffers;
using System.Net;
using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Producers;
using EdgeStream.Kafka.Protocol;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using EdgeStream.Kafka.Transactions;
using EdgeStream.Metadata;
using EdgeStream.Security.Acls;
using EdgeStream.Security.Authentication;
using EdgeStream.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Kafka.Server;

/// <summary>
/// The Kafka API of a node: parses a request frame and runs the handler for its API. Handlers
/// live in <c>Handlers/</c>, one file per API (partial class). A handler's synchronous part runs
/// in the connection's arrival order; it may then await (fsync, long-poll) while later requests
/// are parsed.
/// </summary>
public sealed partial class KafkaBroker
{
    private readonly Func<TopicCatalog> _catalog;
    private readonly ILogger _logger;

    /// <param name="authenticator">The users SASL checks against; null when the node has no user store (tests).</param>
    /// <param name="metadata">Where transaction state is kept; null keeps it in memory only (tests).</param>
    /// <param name="authorizer">The ACLs every request is checked against; null: everyone may do everything (tests).</param>
    public KafkaBroker(KafkaBrokerOptions options, Func<TopicCatalog> catalog, ProducerIdAllocator producerIds, GroupCoordinator groups, ILoggerFactory loggerFactory,
        UserAuthenticator? authenticator = null, MetadataStore? metadata = null, AclAuthorizer? authorizer = null)
    {
        options.Validate();
        if (options.RequiresSasl && authenticator is null) throw new ConfigurationException("Kafka SASL needs a user store to authenticate against.");
        Authenticator = authenticator;
        Authorizer = authorizer;
        Options = options;
        _catalog = catalog;
        ProducerIds = producerIds;
        Producers = new ProducerStateManager();
        Groups = groups;
        FetchSessions = new FetchSessionCache(options.FetchSessionCacheSlots);
        _logger = loggerFactory.CreateLogger("EdgeStream.Kafka");
        Transactions = new TransactionCoordinator(catalog, producerIds, Producers, groups, metadata, loggerFactory.CreateLogger("EdgeStream.Kafka.Transactions"));
    }

    public KafkaBrokerOptions Options { get; }
    /// <summary>The users SASL checks against; null when the node has no user store (tests).</summary>
    internal UserAuthenticator? Authenticator { get; }
    /// <summary>The ACLs requests are checked against; null when the node has none (tests).</summary>
    internal AclAuthorizer? Authorizer { get; }
    internal TopicCatalog Catalog => _catalog();
    internal LogManager Log => _catalog().Log;
    internal ProducerIdAllocator ProducerIds { get; }
    internal ProducerStateManager Producers { get; }
    /// <summary>The consumer group coordinator: this node coordinates every group.</summary>
    public GroupCoordinator Groups { get; }
    internal FetchSessionCache FetchSessions { get; }
    /// <summary>The transaction coordinator: this node coordinates every transactional id.</summary>
    public TransactionCoordinator Transactions { get; }

    /// <summary>Incremental fetch sessions (KIP-227): open, cache size, created and evicted since start-up.</summary>
    public FetchSessionStats FetchSessionStats() => FetchSessions.Stats();

    /// <summary>
    /// Parses one frame (without its size prefix) and starts its handler. Throws for what must close
    /// the connection: <see cref="KafkaProtocolException"/> for a header or body that does not parse,
    /// <see cref="UnsupportedApiException"/> for an API/version we do not answer (except ApiVersions,
    /// which is answered with UNSUPPORTED_VERSION and our ranges so any client can negotiate), and
    /// <see cref="SaslRequiredException"/> for anything else before authentication when SASL is required.
    /// <paramref name="session"/> is the connection's; null stands for a new, unauthenticated one.
    /// </summary>
    public (RequestHeader Header, ValueTask<KafkaResponse?> Response) Dispatch(ReadOnlySequence<byte> frame, EndPoint? localEndPoint, CancellationToken connectionClosed, EndPoint? remoteEndPoint = null,
        KafkaSession? session = null)
    {
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        session ??= new KafkaSession(remoteEndPoint);
        // Kafka's SaslServerAuthenticator: until the client has authenticated only these are read;
        // anything else (or anything after a failed attempt) closes the connection.
        if (Options.RequiresSasl && !session.IsAuthenticated
            && (session.State == SaslState.Failed || header.ApiKey is not ((short)ApiKey.ApiVersions or (short)ApiKey.SaslHandshake or (short)ApiKey.SaslAuthenticate)))
            throw new SaslRequiredException(header.ApiKey);
        if (!SupportedApis.IsSupported(header.ApiKey, header.ApiVersion))
        {
            if (header.ApiKey == (short)ApiKey.ApiVersions)
            {
                // KIP-511: reply in v0 so that a client newer than us can parse it and retry lower.
                var downgraded = new RequestHeader { ApiKey = header.ApiKey, ApiVersion = 0, CorrelationId = header.CorrelationId, ClientId = header.ClientId };
                var body = new ApiVersionsResponse { ErrorCode = (short)KafkaErrorCode.UnsupportedVersion, ApiKeys = SupportedApis.ToResponse() };
                return (downgraded, ValueTask.FromResult<KafkaResponse?>(new KafkaResponse(body)));
            }
            throw new UnsupportedApiException(header.ApiKey, header.ApiVersion);
        }
        var request = KafkaApis.ReadRequest((ApiKey)header.ApiKey, header.ApiVersion, ref reader);
        var context = new KafkaRequestContext { Header = header, LocalEndPoint = localEndPoint, RemoteEndPoint = remoteEndPoint, ConnectionClosed = connectionClosed, Session = session };
        return (header, Handle(context, request));
    }

    private ValueTask<KafkaResponse?> Handle(KafkaRequestContext context, IKafkaApiMessage request) => request switch
    {
        ApiVersionsRequest r => Reply(HandleApiVersions(context, r)),
        MetadataRequest r => Reply(HandleMetadata(context, r)),
        ProduceRequest r => HandleProduceAsync(context, r),
        FetchRequest r => HandleFetchAsync(context, r),
        ListOffsetsRequest r => Reply(HandleListOffsets(context, r)),
        InitProducerIdRequest r => HandleInitProducerIdAsync(context, r),
        AddPartitionsToTxnRequest r => HandleAddPartitionsToTxnAsync(context, r),
        AddOffsetsToTxnRequest r => HandleAddOffsetsToTxnAsync(context, r),
        TxnOffsetCommitRequest r => HandleTxnOffsetCommitAsync(context, r),
        EndTxnRequest r => HandleEndTxnAsync(context, r),
        ListTransactionsRequest r => Reply(HandleListTransactions(context, r)),
        DescribeTransactionsRequest r => Reply(HandleDescribeTransactions(context, r)),
        CreateTopicsRequest r => Reply(HandleCreateTopics(context, r)),
        DeleteTopicsRequest r => Reply(HandleDeleteTopics(context, r)),
        CreatePartitionsRequest r => Reply(HandleCreatePartitions(context, r)),
        DescribeConfigsRequest r => Reply(HandleDescribeConfigs(context, r)),
        AlterConfigsRequest r => Reply(HandleAlterConfigs(context, r)),
        IncrementalAlterConfigsRequest r => Reply(HandleIncrementalAlterConfigs(context, r)),
        DeleteRecordsRequest r => Reply(HandleDeleteRecords(context, r)),
        DescribeClusterRequest r => Reply(HandleDescribeCluster(context, r)),
        DescribeLogDirsRequest r => Reply(HandleDescribeLogDirs(context, r)),
        FindCoordinatorRequest r => Reply(HandleFindCoordinator(context, r)),
        JoinGroupRequest r => HandleJoinGroupAsync(context, r),
        SyncGroupRequest r => HandleSyncGroupAsync(context, r),
        HeartbeatRequest r => Reply(HandleHeartbeat(context, r)),
        LeaveGroupRequest r => Reply(HandleLeaveGroup(context, r)),
        OffsetCommitRequest r => Reply(HandleOffsetCommit(context, r)),
        OffsetFetchRequest r => Reply(HandleOffsetFetch(context, r)),
        ListGroupsRequest r => Reply(HandleListGroups(context, r)),
        DescribeGroupsRequest r => Reply(HandleDescribeGroups(context, r)),
        DeleteGroupsRequest r => Reply(HandleDeleteGroups(context, r)),
        OffsetDeleteRequest r => Reply(HandleOffsetDelete(context, r)),
        ConsumerGroupHeartbeatRequest r => Reply(HandleConsumerGroupHeartbeat(context, r)),
        ConsumerGroupDescribeRequest r => Reply(HandleConsumerGroupDescribe(context, r)),
        SaslHandshakeRequest r => Reply(HandleSaslHandshake(context, r)),
        SaslAuthenticateRequest r => ValueTask.FromResult<KafkaResponse?>(HandleSaslAuthenticate(context, r)),
        DescribeUserScramCredentialsRequest r => Reply(HandleDescribeUserScramCredentials(context, r)),
        AlterUserScramCredentialsRequest r => Reply(HandleAlterUserScramCredentials(context, r)),
        CreateAclsRequest r => Reply(HandleCreateAcls(context, r)),
        DescribeAclsRequest r => Reply(HandleDescribeAcls(context, r)),
        DeleteAclsRequest r => Reply(HandleDeleteAcls(context, r)),
        _ => throw new UnsupportedApiException(context.Header.ApiKey, context.Version),
    };

    private static ValueTask<KafkaResponse?> Reply(IKafkaMessage body) => ValueTask.FromResult<KafkaResponse?>(new KafkaResponse(body));

    /// <summary>The host and port clients should use: configured, or the address they reached us on.</summary>
    internal (string Host, int Port) AdvertisedEndpoint(EndPoint? local)
    {
        var ip = local as IPEndPoint;
        var host = Options.AdvertisedHost;
        if (string.IsNullOrEmpty(host))
        {
            var address = ip?.Address;
            if (address is not null && address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            host = address is null || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "localhost" : address.ToString();
        }
        var port = Options.AdvertisedPort > 0 ? Options.AdvertisedPort : ip?.Port ?? 9092;
        return (host, port);
    }

    /// <summary>Maps a storage or configuration failure to the Kafka error code a client understands.</summary>
    internal static KafkaErrorCode ErrorFor(Exception ex) => ex switch
    {
        UnknownTopicException => KafkaErrorCode.UnknownTopicOrPartition,
        Storage.OffsetOutOfRangeException => KafkaErrorCode.OffsetOutOfRange,
        InvalidBatchException => KafkaErrorCode.CorruptMessage,
        MessageTooLargeException => KafkaErrorCode.MessageTooLarge,
        DiskFullException => KafkaErrorCode.KafkaStorageError,
        TopicAlreadyExistsException => KafkaErrorCode.TopicAlreadyExists,
        ConfigurationException => KafkaErrorCode.InvalidConfig,
        StorageException => KafkaErrorCode.KafkaStorageError,
        _ => KafkaErrorCode.UnknownServerError,
    };
}
