using EdgeStream.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Receiving;

/// <summary>Wires the parent side into an ASP.NET Core host.</summary>
public static class UplinkReceiverServiceCollectionExtensions
{
    /// <summary>
    /// Registers gRPC (message size bounded by the frame limit, so an oversized message is refused
    /// before it is buffered), the <see cref="UplinkReceiver"/> and its stats. <paramref name="catalog"/>
    /// gives the topic catalog once storage is open. With a <see cref="RevokedNodes"/> registered, revoked
    /// nodes are refused and each refusal goes to <paramref name="audit"/>.
    /// </summary>
    public static IServiceCollection AddUplinkReceiver(this IServiceCollection services, UplinkReceiverOptions options,
        Func<IServiceProvider, Func<TopicCatalog?>> catalog, string nodeId, Func<IServiceProvider, Action<RevokedRefusal>>? audit = null)
    {
        services.AddSingleton(new Fleet.FleetRegistry(nodeId));
        options.Validate();
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = options.MaxReceiveMessageBytes;
            o.MaxSendMessageSize = 64 * 1024;
            o.EnableDetailedErrors = false;
        });
        services.AddSingleton(sp => new UplinkReceiver(catalog(sp), sp.GetRequiredService<MetadataStore>(), options,
            sp.GetRequiredService<ILogger<UplinkReceiver>>(), sp.GetService<RevokedNodes>(), audit?.Invoke(sp)));
        services.AddSingleton(sp => sp.GetRequiredService<UplinkReceiver>().Stats);
        return services;
    }

    /// <summary>Maps the Uplink service on the uplink listener's port only (not on the HTTP status port).</summary>
    public static IEndpointConventionBuilder MapUplinkReceiver(this IEndpointRouteBuilder endpoints, int port) =>
        endpoints.MapGrpcService<UplinkService>().RequireHost($"*:{port}");
}
