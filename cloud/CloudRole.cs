using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Cloud;

/// <summary>What only the cloud ingest tier does (handing data to systems behind it) lives here as it lands.</summary>
public static class CloudRole
{
    public const string Name = "cloud";

    /// <summary>The cloud tier's registrations, applied by <see cref="RoleHost"/> when <c>--role cloud</c>.</summary>
    public static IRoleModule Module { get; } = new CloudRoleModule();
}

internal sealed class CloudRoleModule : IRoleModule
{
    public NodeRole Role => NodeRole.Cloud;

    public void ConfigureServices(IServiceCollection services, AgentOptions options)
    {
        // Uplink acceptor and sinks to the systems behind the cloud tier are registered here when they land.
    }
}
