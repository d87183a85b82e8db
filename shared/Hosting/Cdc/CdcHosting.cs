using EdgeStream.Cdc;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using EdgeStream.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting;

/// <summary>Wires the CDC sources (<c>--cdc</c>) into a node of any role: they append to the local log like any producer.</summary>
public static class CdcHosting
{
    public static IServiceCollection AddEdgeStreamCdc(this IServiceCollection services, AgentOptions options)
    {
        if (options.Cdc.Count == 0) return services;
        services.AddSingleton(sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            return new CdcService(options.Cdc, () => state.Catalog, sp.GetRequiredService<MetadataStore>(),
                Path.Combine(options.DataDirectory, "cdc"), sp.GetRequiredService<ILoggerFactory>());
        });
        services.AddHostedService(static sp => sp.GetRequiredService<CdcService>());
        return services;
    }
}
