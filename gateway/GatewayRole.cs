using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Gateway;

/// <summary>What only a gateway does (accepting many edges' uplinks, aggregation) lives here as it lands.</summary>
public static class GatewayRole
{
    public const string Name = "gateway";

    /// <summary>The gateway's registrations, applied by <see cref="RoleHost"/> when <c>--role gateway</c>.</summary>
    public static IRoleModule Module { get; } = new GatewayRoleModule();
}

internal sealed class GatewayRoleModule : IRoleModule
{
    public NodeRole Role => NodeRole.Gateway;

    public void ConfigureServices(IServiceCollection services, AgentOptions options)
    {
        // Uplink acceptor and aggregation services are registered here when they land.
    }
}
