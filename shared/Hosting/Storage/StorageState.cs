using EdgeStream.Metadata;
using EdgeStream.Storage;

namespace EdgeStream.Hosting.Storage;

/// <summary>The open <see cref="LogManager"/>, once storage is up; readiness for <c>/healthz</c>.</summary>
public sealed class StorageState
{
    private volatile LogManager? _manager;

    /// <summary>The log manager, or null before start-up finished or after shutdown began.</summary>
    public LogManager? Manager => _manager;

    /// <summary>The topic catalog over the open log (topics, configs, ids kept in step with meta.db).</summary>
    public TopicCatalog? Catalog => _catalog;

    /// <summary>True while storage is open and serving.</summary>
    public bool IsOpen => _manager is not null;

    private volatile TopicCatalog? _catalog;

    internal void Set(LogManager? manager, TopicCatalog? catalog = null)
    {
        _catalog = catalog;
        _manager = manager;
    }
}
