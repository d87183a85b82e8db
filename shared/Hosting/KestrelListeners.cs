using System.Net;
using EdgeStream.Hosting.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EdgeStream.Hosting;

/// <summary>Binds Kestrel listeners to the agent's <c>HOST:PORT</c> settings.</summary>
public static class KestrelListeners
{
    /// <summary>Listens on <paramref name="address"/>: every interface (<c>0.0.0.0</c>, <c>::</c>, <c>*</c>), <c>localhost</c> or one IP.</summary>
    public static void ListenOn(this KestrelServerOptions kestrel, HostPort address, Action<ListenOptions> configure)
    {
        if (address.IsAnyAddress) kestrel.ListenAnyIP(address.Port, configure);
        else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)) kestrel.ListenLocalhost(address.Port, configure);
        else kestrel.Listen(IPAddress.Parse(address.Host), address.Port, configure);
    }
}
