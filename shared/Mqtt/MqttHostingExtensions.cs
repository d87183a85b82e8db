using EdgeStream.Metadata;
using EdgeStream.Mqtt.Core;
using EdgeStream.Mqtt.Limits;
using EdgeStream.Mqtt.Persistence;
using EdgeStream.Security.Acls;
using EdgeStream.Security.Authentication;
using MQTTnet.AspNetCore;
using MQTTnet.Server;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Mqtt;

/// <summary>Registration of the MQTT listener on the node's Kestrel host.</summary>
public static class MqttHostingExtensions
{
    /// <summary>
    /// Registers the MQTTnet broker (no listener of its own: Kestrel serves it) and the log bridge. With
    /// <paramref name="authenticator"/> a client certificate authenticates its client, and with
    /// <paramref name="passwordRequired"/> a CONNECT without one must carry a user name and password of the
    /// node's users; with <paramref name="authorizer"/> every PUBLISH and SUBSCRIBE is checked against the node's ACLs.
    /// </summary>
    public static IServiceCollection AddEdgeStreamMqtt(this IServiceCollection services, Func<IServiceProvider, MqttLogBridge> bridge, MqttLimits? limits = null,
        Func<IServiceProvider, UserAuthenticator>? authenticator = null, Func<IServiceProvider, AclAuthorizer>? authorizer = null, bool passwordRequired = false)
    {
        limits ??= new MqttLimits();
        limits.Validate();
        services.AddSingleton(bridge);
        services.AddSingleton(limits);
        // First of the CONNECT handlers: the ones after it see a refused client as refused (no session, no slot).
        if (authenticator is not null)
            services.AddHostedService(sp => new MqttAuthentication(sp.GetRequiredService<MqttServer>(), authenticator(sp), passwordRequired));
        // Before MqttBrokerService: a PUBLISH it refuses is not appended to the log.
        if (authorizer is not null)
            services.AddHostedService(sp => new MqttAuthorization(sp.GetRequiredService<MqttServer>(), authorizer(sp), sp.GetRequiredService<MqttLogBridge>().Options.Map));
        services.AddSingleton(sp => new MqttSessionStore(sp.GetRequiredService<MetadataStore>()));
        // Before MqttBrokerService (which asks it about every will) and MQTTnet's server: it sees every
        // connection, and it stops after the server (pending wills are dropped then).
        services.AddSingleton<MqttWillDelay>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttWillDelay>());
        // Registered before MQTTnet's hosted server, so the bridge is attached before the broker starts
        // (and these stop after it: nothing is dispatched while sessions are checkpointed).
        services.AddHostedService<MqttBrokerService>();
        services.AddSingleton<MqttConnectionGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttConnectionGuard>());
        // Retained messages and persistent sessions survive restarts (MQTTnet keeps both in memory).
        services.AddHostedService<MqttRetainedStore>();
        services.AddHostedService<MqttSessionTracker>();
        // Kafka → MQTT for mapped log topics; does nothing without --mqtt-map rules.
        services.AddSingleton<IMqttMessageInjector>(sp => new MqttServerInjector(sp.GetRequiredService<MqttServer>()));
        services.AddHostedService<MqttLogFollower>();
        // Without WithPersistentSessions MQTTnet drops every session at disconnect, CleanSession=0 or not.
        // A subscriber's queue is bounded; a slow one loses its oldest messages (counted and logged by the guard).
        services.AddHostedMqttServer(o => o.WithoutDefaultEndpoint()
            .WithPersistentSessions(true)
            .WithMaxPendingMessagesPerClient(limits.MaxQueued)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage));
        services.AddMqttConnectionHandler();
        return services;
    }

    /// <summary>
    /// Registers the own broker core (<c>--mqtt-engine own</c>) with the same bridge, limits, retained
    /// store, authentication, authorization and Kafka → MQTT follower as <see cref="AddEdgeStreamMqtt"/>, and
    /// MQTT 5 enhanced authentication (SCRAM-SHA-256/512 against the node's users), which only the core offers.
    /// </summary>
    public static IServiceCollection AddEdgeStreamMqttCore(this IServiceCollection services, Func<IServiceProvider, MqttLogBridge> bridge, MqttLimits? limits = null,
        Func<IServiceProvider, UserAuthenticator>? authenticator = null, Func<IServiceProvider, AclAuthorizer>? authorizer = null, bool passwordRequired = false)
    {
        limits ??= new MqttLimits();
        limits.Validate();
        services.AddSingleton(bridge);
        services.AddSingleton(limits);
        services.AddSingleton(sp => new MqttRetainedStore(null, sp.GetRequiredService<MetadataStore>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<MqttRetainedStore>>()));
        services.AddSingleton(sp =>
        {
            var users = authenticator?.Invoke(sp);
            return new MqttCoreBroker(sp.GetRequiredService<MqttLogBridge>(), limits, sp.GetRequiredService<MqttRetainedStore>(),
                sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<MqttCoreBroker>>(),
                users is null ? null : new MqttAuthentication(null, users, passwordRequired),
                authorizer is null ? null : new MqttAuthorization(null, authorizer(sp), sp.GetRequiredService<MqttLogBridge>().Options.Map),
                new MqttSessionStore(sp.GetRequiredService<MetadataStore>()),
                // MQTT 5 enhanced authentication (SCRAM against the same users); MQTTnet's server above has none.
                users is null ? null : MqttEnhancedAuthentication.WithScram(users));
        });
        services.AddHostedService(sp => sp.GetRequiredService<MqttCoreBroker>());
        services.AddSingleton<IMqttMessageInjector>(sp => sp.GetRequiredService<MqttCoreBroker>());
        services.AddHostedService<MqttLogFollower>();
        services.AddSingleton<MqttCoreConnectionHandler>();
        return services;
    }

    /// <summary>Serves MQTT (3.1, 3.1.1, 5) on a Kestrel listener with the broker <paramref name="engine"/> names.</summary>
    public static ListenOptions UseEdgeStreamMqtt(this ListenOptions listen, MqttEngine engine)
    {
        if (engine != MqttEngine.Own) return listen.UseEdgeStreamMqtt();
        listen.UseConnectionHandler<MqttCoreConnectionHandler>();
        return listen;
    }

    /// <summary>Serves MQTT (3.1, 3.1.1, 5) on a Kestrel listener with MQTTnet's server.</summary>
    public static ListenOptions UseEdgeStreamMqtt(this ListenOptions listen)
    {
        // Before UseMqtt (the terminal handler): the guard checks bytes before MQTTnet buffers a packet.
        MqttConnectionGuard? guard = null;
        listen.Use(next => context =>
            (guard ??= listen.ApplicationServices.GetRequiredService<MqttConnectionGuard>()).OnConnectionAsync(context, next));
        listen.UseMqtt();
        return listen;
    }
}
