using EdgeStream.Hosting.Configuration;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Hosting;

/// <summary>
/// What <see cref="IRoleModule.Configure"/> adds to: the node's services (registered after the common
/// ones, so the role's hosted services stop before storage), Kestrel listeners (bound after the HTTP,
/// Kafka and MQTT ones) and endpoints (mapped after <c>/healthz</c> and <c>/v1/status</c>).
/// </summary>
public sealed class RoleBuilder
{
    private readonly List<Action<KestrelServerOptions>> _listeners = [];
    private readonly List<Action<IEndpointRouteBuilder>> _endpoints = [];

    internal RoleBuilder(IServiceCollection services, AgentOptions options, NodeContext node)
    {
        Services = services;
        Options = options;
        Node = node;
    }

    public IServiceCollection Services { get; }

    public AgentOptions Options { get; }

    public NodeContext Node { get; }

    /// <summary>The node's certificate and fleet CA (<c>--tls-*</c>); null: clear text.</summary>
    public EdgeStream.Security.Tls.TlsMaterial? Tls { get; init; }

    /// <summary>Adds a Kestrel listener of the role (or a setting for it).</summary>
    public RoleBuilder Listen(Action<KestrelServerOptions> configure)
    {
        _listeners.Add(configure);
        return this;
    }

    /// <summary>Adds endpoints of the role, mapped once the application is built.</summary>
    public RoleBuilder MapEndpoints(Action<IEndpointRouteBuilder> map)
    {
        _endpoints.Add(map);
        return this;
    }

    internal void ApplyListeners(KestrelServerOptions kestrel)
    {
        foreach (var configure in _listeners) configure(kestrel);
    }

    internal void ApplyEndpoints(IEndpointRouteBuilder endpoints)
    {
        foreach (var map in _endpoints) map(endpoints);
    }
}
