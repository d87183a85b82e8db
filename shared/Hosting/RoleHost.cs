using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Producers;
using EdgeStream.Kafka.Server;
using Microsoft.AspNetCore.Connections;
using System.Net;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Http;
using EdgeStream.Hosting.Storage;
using EdgeStream.Metadata;
using EdgeStream.Mqtt;
using EdgeStream.Uplink.Protocol;
using EdgeStream.Uplink.Receiving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;

namespace EdgeStream.Hosting;

/// <summary>What a role adds to the host. <c>gateway/</c> and <c>cloud/</c> each provide one.</summary>
public interface IRoleModule
{
    /// <summary>The role whose nodes get these services.</summary>
    NodeRole Role { get; }

    /// <summary>Registers the role's services (hosted services, listeners) on top of the common ones.</summary>
    void ConfigureServices(IServiceCollection services, AgentOptions options);
}

/// <summary>Composes the host for a role: the services every node runs, then the role's own.</summary>
public static class RoleHost
{
    /// <summary>Registers what every node runs, whatever its role. Order matters: storage first, so it stops last.</summary>
    public static IServiceCollection AddEdgeStreamNode(this IServiceCollection services, AgentOptions options, NodeContext node, MetadataStore metadata)
    {
        services.AddSingleton(options);
        services.AddSingleton(node);
        services.AddSingleton(metadata);
        services.AddSingleton<StorageState>();
        services.AddHostedService<StorageHostedService>();
        services.AddHostedService<RetentionService>();
        services.AddSingleton(sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            var brokerOptions = new KafkaBrokerOptions
            {
                ClusterId = node.NodeId,
                AdvertisedHost = options.KafkaAdvertised?.Host,
                AdvertisedPort = options.KafkaAdvertised?.Port ?? 0,
                MaxRequestBytes = (int)options.KafkaMaxRequestBytes,
            };
            return new KafkaBroker(brokerOptions,
                () => state.Catalog ?? throw new EdgeStream.Storage.StorageException("storage is not open"),
                new ProducerIdAllocator(metadata),
                new GroupCoordinator(new GroupCoordinatorOptions(), OffsetStore.Open(metadata)),
                sp.GetRequiredService<ILoggerFactory>());
        });
        services.AddHostedService<GroupCoordinatorService>();
        services.AddEdgeStreamMqtt(sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            return new MqttLogBridge(() => state.Catalog, new MqttBridgeOptions { Map = new MqttTopicMap(options.MqttMap) });
        }, options.MqttLimits);
        if (options.Fsync == EdgeStream.Storage.FsyncPolicy.Os)
            services.AddHostedService<OsFlushService>();
        if (options.Parents.Count > 0)
            services.AddUplinkSender(options, node);
        return services;
    }

    /// <summary>Builds the web application for <paramref name="options"/>: Kestrel on the HTTP listener, Serilog, common and role services.</summary>
    public static WebApplication Build(AgentOptions options, NodeContext node, MetadataStore metadata,
        Serilog.ILogger logger, IEnumerable<IRoleModule> roleModules)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            // Not the working directory: a stray appsettings.json there must not reconfigure the node.
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(logger, dispose: false);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            var http = options.Http;
            Listen(k, options.Http, _ => { });
            // Kafka clients speak the wire protocol straight on TCP: a Kestrel connection handler, no HTTP.
            Listen(k, options.Kafka, l => l.UseConnectionHandler<KafkaConnectionHandler>());
            // MQTT 3.1.1 and 5 (MQTTnet's broker) on the same Kestrel host; every PUBLISH also lands in the log.
            Listen(k, options.Mqtt, l => l.UseEdgeStreamMqtt());
            // Children's uplinks (gateway and cloud): gRPC over HTTP/2 without TLS (h2c), so HTTP/2 only.
            if (options.Uplink is { } uplink)
            {
                Listen(k, uplink, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
                // Kestrel's default 1 MiB / 768 KiB flow-control windows cap a child on a high-latency
                // link at ~window/RTT; uplink frames are up to --uplink-max-frame. Only h2 connections
                // (the uplink listener) use these.
                k.Limits.Http2.InitialConnectionWindowSize = 8 * 1024 * 1024;
                k.Limits.Http2.InitialStreamWindowSize = 4 * 1024 * 1024;
            }
        });

        builder.Services.AddEdgeStreamNode(options, node, metadata);
        foreach (var module in roleModules)
        {
            if (module.Role == options.Role) module.ConfigureServices(builder.Services, options);
        }

        if (options.Uplink is not null)
        {
            var uplinkOptions = new UplinkReceiverOptions { Limits = new UplinkFrameLimits { MaxFrameBytes = (int)options.UplinkMaxFrameBytes } };
            builder.Services.AddUplinkReceiver(uplinkOptions, sp =>
            {
                var state = sp.GetRequiredService<StorageState>();
                return () => state.Catalog;
            });
        }

        builder.Services.AddSingleton<KafkaConnectionHandler>();
        var app = builder.Build();
        app.MapEdgeStreamEndpoints();
        if (options.Uplink is { } uplinkListener) app.MapUplinkReceiver(uplinkListener.Port);
        return app;
    }

    /// <summary>The uplink sender (edges and gateways with <c>--parent</c>): forwards the log to the parents.</summary>
    private static void AddUplinkSender(this IServiceCollection services, AgentOptions options, NodeContext node)
    {
        var parents = new List<EdgeStream.Uplink.Sending.UplinkParent>(options.Parents.Count);
        foreach (var p in options.Parents) parents.Add(new EdgeStream.Uplink.Sending.UplinkParent(p.Host, p.Port));
        var senderOptions = new EdgeStream.Uplink.Sending.UplinkSenderOptions
        {
            Parents = parents,
            NodeId = node.NodeId,
            Role = node.Role.ToText(),
            Topics = new EdgeStream.Uplink.Sending.UplinkTopicRules(options.UplinkTopics, options.UplinkPrefix, options.UplinkRename),
            RateBytesPerSecond = options.UplinkRateBytesPerSecond,
            MaxBackoff = options.UplinkMaxBackoff,
        };
        services.AddSingleton<EdgeStream.Uplink.Sending.UplinkStatus>();
        services.AddHostedService(sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            return new EdgeStream.Uplink.Sending.UplinkForwarder(senderOptions, () => state.Catalog, sp.GetRequiredService<MetadataStore>(),
                sp.GetRequiredService<EdgeStream.Uplink.Sending.UplinkStatus>(), sp.GetRequiredService<ILogger<EdgeStream.Uplink.Sending.UplinkForwarder>>());
        });
    }

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, HostPort address,
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> configure)
    {
        if (address.IsAnyAddress) kestrel.ListenAnyIP(address.Port, configure);
        else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)) kestrel.ListenLocalhost(address.Port, configure);
        else kestrel.Listen(IPAddress.Parse(address.Host), address.Port, configure);
    }
}
