using Makaretu.Dns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeStream.Mesh.Discovery;

/// <summary>What the responder and the browser both run with: validated options, clock, randomness, counters, logger, the service name.</summary>
internal sealed class MdnsContext
{
    public MdnsContext(MdnsOptions options, TimeProvider? time, Random? random, MdnsCounters? counters, ILogger? logger)
    {
        options.Validate();
        Options = options;
        Time = time ?? TimeProvider.System;
        Random = random ?? Random.Shared;
        Counters = counters ?? new MdnsCounters();
        Logger = logger ?? NullLogger.Instance;
        Service = MdnsNames.ServiceName(options.ServiceType);
    }

    public MdnsOptions Options { get; }
    public TimeProvider Time { get; }
    public Random Random { get; }
    public MdnsCounters Counters { get; }
    public ILogger Logger { get; }
    /// <summary>The service type as a name, e.g. <c>_edgestream._tcp.local</c>.</summary>
    public DomainName Service { get; }
}
