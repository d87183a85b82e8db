using EdgeStream.Files.Receiving;
using EdgeStream.Files.Sending;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Hosting.Files;

/// <summary>Wires files into a node: the files topic's defaults on every node, the receiver where <c>--files-dir</c> is set.</summary>
public static class FilesHosting
{
    /// <summary>
    /// The files topic is created with a lower uplink.priority than event topics (0) at every tier however it
    /// is created (by the sender, by auto-creation, by the uplink receiver), so events drain first after a
    /// reconnect and, with drop-oldest, files give up disk first.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> TopicDefaults { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal)
        {
            [FileSendOptions.DefaultTopic] = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [TopicConfigKeys.UplinkPriority] = FileSendOptions.DefaultUplinkPriority.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        };

    /// <summary>Registers the files receiver when <see cref="AgentOptions.FilesDir"/> is set; its state appears as <c>files</c> in <c>/v1/status</c>.</summary>
    public static IServiceCollection AddEdgeStreamFiles(this IServiceCollection services, AgentOptions options)
    {
        if (options.FilesDir is null) return services;
        services.AddSingleton(new FilesStatus(options.FilesDir));
        services.AddHostedService<FilesReceiverService>();
        return services;
    }
}
