using EdgeStream.Security.Tls;
using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Producers;
using EdgeStream.Kafka.Server;
using Microsoft.AspNetCore.Connections;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Files;
using EdgeStream.Hosting.Http;
using EdgeStream.Hosting.Metrics;
using EdgeStream.Hosting.Storage;
using EdgeStream.Hosting.Systemd;
using EdgeStream.Metadata;
using EdgeStream.Mqtt;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using EdgeStream.Hosting.Logging;

namespace EdgeStream.Hosting;

/// <summary>
/// Composes the host for a role: what every node runs (the log, Kafka, MQTT, HTTP status), then what
/// the role's <see cref="IRoleModule"/> adds.
/// </summary>
public static class RoleHost
{
    /// <summary>Registers what every node runs, whatever its role. Order matters: storage first, so it stops last.</summary>
    public static IServiceCollection AddEdgeStreamNode(this IServiceCollection services, AgentOptions options, NodeContext node, MetadataStore metadata)
    {
        services.AddSingleton(options);
        services.AddSingleton(node);
        services.AddSingleton(metadata);
        services.AddSingleton<StorageState>();
        // The node's users (meta.db), shared by Kafka SASL and MQTT; with the audit of their outcomes
        // (one audit for the node: the uplink's refusals of revoked nodes go there too).
        services.AddSingleton(sp => new EdgeStream.Security.Authentication.AuthenticationAudit(sp.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeStream.Security")));
        services.AddSingleton(sp => new EdgeStream.Security.Authentication.UserAuthenticator(new UserCredentialStore(metadata),
            sp.GetRequiredService<EdgeStream.Security.Authentication.AuthenticationAudit>()));
        // The node's ACLs (meta.db), enforced by Kafka and MQTT when --authorizer is on.
        services.AddSingleton(sp => new EdgeStream.Security.Acls.AclAuthorizer(new AclStore(metadata), options.Authorizer, options.SuperUsers,
            new EdgeStream.Security.Acls.AuthorizationAudit(sp.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeStream.Security"))));
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
                BrokerId = options.KafkaBrokerId,
                FetchSessionCacheSlots = options.KafkaFetchSessions,
                SaslMechanisms = options.KafkaSasl,
                SuperUsers = options.SuperUsers,
            };
            return new KafkaBroker(brokerOptions,
                () => state.Catalog ?? throw new EdgeStream.Storage.StorageException("storage is not open"),
                new ProducerIdAllocator(metadata),
                new GroupCoordinator(new GroupCoordinatorOptions
                {
                    ConsumerSessionTimeoutMs = (int)options.KafkaGroupConsumerSessionTimeout.TotalMilliseconds,
                    ConsumerHeartbeatIntervalMs = (int)options.KafkaGroupConsumerHeartbeatInterval.TotalMilliseconds,
                }, OffsetStore.Open(metadata)),
                sp.GetRequiredService<ILoggerFactory>(),
                sp.GetRequiredService<EdgeStream.Security.Authentication.UserAuthenticator>(),
                metadata,
                sp.GetRequiredService<EdgeStream.Security.Acls.AclAuthorizer>());
        });
        services.AddHostedService<GroupCoordinatorService>();
        Func<IServiceProvider, MqttLogBridge> mqttBridge = sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            return new MqttLogBridge(() => state.Catalog, new MqttBridgeOptions { Map = new MqttTopicMap(options.MqttMap) });
        };
        Func<IServiceProvider, EdgeStream.Security.Authentication.UserAuthenticator> mqttUsers =
            sp => sp.GetRequiredService<EdgeStream.Security.Authentication.UserAuthenticator>();
        Func<IServiceProvider, EdgeStream.Security.Acls.AclAuthorizer>? mqttAcls =
            options.Authorizer ? sp => sp.GetRequiredService<EdgeStream.Security.Acls.AclAuthorizer>() : null;
        if (options.MqttEngine == MqttEngine.Own)
            services.AddEdgeStreamMqttCore(mqttBridge, options.MqttLimits, mqttUsers, mqttAcls, passwordRequired: options.MqttAuth);
        else
            services.AddEdgeStreamMqtt(mqttBridge, options.MqttLimits, mqttUsers, mqttAcls, passwordRequired: options.MqttAuth);
        if (options.Fsync == EdgeStream.Storage.FsyncPolicy.Os)
            services.AddHostedService<OsFlushService>();
        services.AddEdgeStreamFiles(options);
        services.AddEdgeStreamCdc(options);
        services.AddSystemdNotify(SystemdEnvironment.FromProcess());
        services.AddEdgeStreamMetrics(options);
        return services;
    }

    /// <summary>
    /// Builds the web application for <paramref name="options"/>: Serilog, the services, Kestrel listeners and
    /// endpoints every node has, then what the module in <paramref name="roleModules"/> for the node's role adds.
    /// </summary>
    public static WebApplication Build(AgentOptions options, NodeContext node, MetadataStore metadata,
        Serilog.ILogger logger, IEnumerable<IRoleModule> roleModules)
    {
        // The empty builder: no configuration sources (the node's settings come from AgentSettings only, so no
        // appsettings.json or ASPNETCORE_ variable can reconfigure it, and no file watcher thread runs for them), no
        // console logger (Serilog logs), only Kestrel's core and routing's core: what the slim builder added beyond
        // that was 0.54 MB of the NativeAOT binary and a thread (docs/BENCHMARKS.md "footprint").
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration();
        builder.Services.AddRoutingCore();

        builder.Services.AddSingleton<ILoggerFactory>(new SerilogBridgeFactory(logger));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.AddEdgeStreamNode(options, node, metadata);
        // Small devices: one socket I/O thread instead of one per core (Kestrel's default, up to 16).
        if (node.Profile == MemoryProfile.Small)
            builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(o => o.IOQueueCount = 1);
        // Read once at start-up: a missing or mismatched file stops the node with the reason, not the first client.
        var tls = options.TlsCert is null ? null : TlsMaterial.Load(options.TlsCert, options.TlsKey!, options.TlsCa);
        if (tls is not null) builder.Services.AddSingleton(tls);
        var role = new RoleBuilder(builder.Services, options, node) { Tls = tls };
        ModuleFor(options.Role, roleModules).Configure(role);
        builder.Services.AddSingleton<KafkaConnectionHandler>();

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // With a certificate every listener speaks TLS first (Kafka's SSL, MQTT over TLS, HTTPS).
            k.ListenOn(options.Http, l => l.UseServerTls(tls));
            // Kafka clients speak the wire protocol straight on TCP: a Kestrel connection handler, no HTTP.
            k.ListenOn(options.Kafka, l => l.UseServerTls(tls, options.TlsClientAuth).UseWholeTlsRecords(tls).UseConnectionHandler<KafkaConnectionHandler>());
            // MQTT 3.1.1 and 5 (MQTTnet's broker or our own, --mqtt-engine) on the same Kestrel host; every PUBLISH also lands in the log.
            k.ListenOn(options.Mqtt, l => l.UseServerTls(tls, options.TlsClientAuth).UseEdgeStreamMqtt(options.MqttEngine));
            role.ApplyListeners(k);
        });

        var app = builder.Build();
        // Before every endpoint, the roles' included: whatever is not a GET or HEAD on the HTTP port needs the token.
        app.UseHttpToken(options.Http.Port, options.HttpToken, app.Services.GetRequiredService<ILoggerFactory>());
        app.MapEdgeStreamEndpoints();
        app.MapEdgeStreamMetrics();
        role.ApplyEndpoints(app);
        return app;
    }

    private static IRoleModule ModuleFor(NodeRole role, IEnumerable<IRoleModule> roleModules)
    {
        foreach (var module in roleModules)
        {
            if (module.Role == role) return module;
        }
        throw new InvalidOperationException($"no role module for the {role.ToText()} role");
    }
}
