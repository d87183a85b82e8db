using System.Collections.Concurrent;
using EdgeStream.Storage;

namespace EdgeStream.Metadata;

/// <summary>Topic settings that apply when no one asked for anything else.</summary>
public sealed record TopicDefaults
{
    /// <summary>auto.create.topics.enable: a produce or metadata request for an unknown topic creates it.</summary>
    public bool AutoCreate { get; init; } = true;
    /// <summary>num.partitions for auto-created topics and CreateTopics with -1.</summary>
    public int Partitions { get; init; } = 1;
    /// <summary>
    /// Config overrides a topic of a given name gets when it is created, however (auto-creation, CreateTopics,
    /// the uplink receiver), unless the creator sets the key itself: e.g. <c>files</c> with a low
    /// <c>uplink.priority</c>, so events drain upstream first at every tier.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ConfigsByName { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
}

/// <summary>
/// The one place topics are created, configured and deleted: it keeps the log (data) and the
/// metadata store (partition count, explicit config overrides, topic id) in step, so the Kafka
/// API, the MQTT bridge and the uplink all see the same topics with the same settings.
/// </summary>
public sealed class TopicCatalog
{
    private const string TopicIdCollection = "topic_ids";

    private readonly LogManager _log;
    private readonly MetadataStore _metadata;
    private readonly object _lock = new();
    private readonly ConcurrentDictionary<string, Guid> _ids = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, string> _names = new();

    public TopicCatalog(LogManager log, MetadataStore metadata, TopicDefaults? defaults = null)
    {
        _log = log;
        _metadata = metadata;
        Defaults = defaults ?? new TopicDefaults();
    }

    public TopicDefaults Defaults { get; }
    public LogManager Log => _log;

    /// <summary>
    /// Reconciles metadata with what is on disk at start-up: persisted overrides are applied to
    /// the log's topics, topics found on disk without metadata get it (defaults), and every topic
    /// gets a stable id.
    /// </summary>
    public void Load()
    {
        var ids = _metadata.Collection(TopicIdCollection);
        foreach (var meta in _metadata.ListTopics())
        {
            if (!_log.TryGetTopic(meta.Name, out var topic))
                topic = _log.CreateTopic(meta.Name, meta.Partitions, TopicConfigKeys.Apply(_log.Options.DefaultTopicConfig, meta.Config, checkKafkaRanges: false));
            else
                topic!.Config = TopicConfigKeys.Apply(_log.Options.DefaultTopicConfig, meta.Config, checkKafkaRanges: false);
            if (topic!.PartitionCount < meta.Partitions) _log.AddPartitions(meta.Name, meta.Partitions);
        }
        foreach (var topic in _log.Topics)
        {
            if (_metadata.GetTopic(topic.Name) is null)
                _metadata.UpsertTopic(new StoredTopic(topic.Name, topic.PartitionCount, new Dictionary<string, string>()));
            var id = ids.TryGet(topic.Name, out var entry) && Guid.TryParse(entry.Text, out var g) ? g : NewId(ids, topic.Name);
            Remember(topic.Name, id);
        }
    }

    public IReadOnlyList<TopicLog> Topics => _log.Topics;

    public bool TryGet(string name, out TopicLog? topic) => _log.TryGetTopic(name, out topic);

    public Guid TopicId(string name) => _ids.TryGetValue(name, out var id) ? id : Guid.Empty;

    public string? NameOf(Guid id) => _names.TryGetValue(id, out var name) ? name : null;

    /// <summary>The explicit overrides of a topic (what Kafka calls TOPIC_CONFIG source).</summary>
    public IReadOnlyDictionary<string, string> Overrides(string name) =>
        _metadata.GetTopic(name)?.Config ?? new Dictionary<string, string>();

    /// <summary>The topic, created with the defaults if auto-creation is on; null otherwise.</summary>
    public TopicLog? GetOrAutoCreate(string name)
    {
        if (_log.TryGetTopic(name, out var topic)) return topic;
        if (!Defaults.AutoCreate) return null;
        lock (_lock)
        {
            if (_log.TryGetTopic(name, out topic)) return topic;
            return CreateLocked(name, Defaults.Partitions, new Dictionary<string, string>(), _log.Options.DefaultTopicConfig);
        }
    }

    /// <summary>Creates a topic; <paramref name="partitions"/> -1 means the default. Validates everything before touching disk.</summary>
    public TopicLog? Create(string name, int partitions, IReadOnlyDictionary<string, string> configs, bool validateOnly = false)
    {
        if (partitions == -1) partitions = Defaults.Partitions;
        if (!LogManager.IsValidTopicName(name))
            throw new ConfigurationException($"'{name}' is not a valid topic name: use 1-249 letters, digits, '.', '_' or '-'.");
        var config = TopicConfigKeys.Apply(_log.Options.DefaultTopicConfig, configs);
        if (partitions < 1 || partitions > 10_000)
            throw new ConfigurationException($"A topic needs between 1 and 10000 partitions, not {partitions}.");
        lock (_lock)
        {
            if (_log.TryGetTopic(name, out _)) throw new TopicAlreadyExistsException($"Topic '{name}' already exists.");
            if (validateOnly) return null;
            return CreateLocked(name, partitions, configs, config);
        }
    }

    private TopicLog CreateLocked(string name, int partitions, IReadOnlyDictionary<string, string> configs, TopicConfig config)
    {
        if (Defaults.ConfigsByName.TryGetValue(name, out var named))
        {
            var merged = new Dictionary<string, string>(named, StringComparer.Ordinal);
            foreach (var (key, value) in configs) merged[key] = value;
            configs = merged;
            config = TopicConfigKeys.Apply(_log.Options.DefaultTopicConfig, configs);
        }
        // Metadata first: a crash between the two leaves metadata that Load() turns into the topic.
        _metadata.UpsertTopic(new StoredTopic(name, partitions, new Dictionary<string, string>(configs)));
        Remember(name, NewId(_metadata.Collection(TopicIdCollection), name));
        return _log.CreateTopic(name, partitions, config);
    }

    public bool Delete(string name)
    {
        lock (_lock)
        {
            var deleted = _log.DeleteTopic(name);
            _metadata.DeleteTopic(name);
            _metadata.Collection(TopicIdCollection).Delete(name);
            if (_ids.TryRemove(name, out var id)) _names.TryRemove(id, out _);
            return deleted;
        }
    }

    public void AddPartitions(string name, int newCount, bool validateOnly = false)
    {
        lock (_lock)
        {
            var topic = _log.GetTopic(name);
            if (newCount <= topic.PartitionCount)
                throw new ConfigurationException($"Topic '{name}' has {topic.PartitionCount} partitions; the new count must be larger, not {newCount}.");
            if (validateOnly) return;
            _metadata.UpsertTopic(new StoredTopic(name, newCount, Overrides(name)));
            _log.AddPartitions(name, newCount);
        }
    }

    /// <summary>
    /// Replaces (<paramref name="incremental"/> false, Kafka's AlterConfigs) or edits (IncrementalAlterConfigs)
    /// a topic's overrides. A null value deletes the key. Validated as a whole before anything changes.
    /// </summary>
    public void AlterConfig(string name, IReadOnlyDictionary<string, string?> changes, bool incremental, bool validateOnly = false)
    {
        lock (_lock)
        {
            var topic = _log.GetTopic(name);
            var overrides = incremental ? new Dictionary<string, string>(Overrides(name)) : new Dictionary<string, string>();
            foreach (var (key, value) in changes)
            {
                if (!TopicConfigKeys.IsKnown(key)) throw new ConfigurationException(TopicConfigKeys.UnknownKeyMessage(key));
                if (value is null) overrides.Remove(key);
                else overrides[key] = value;
            }
            var config = TopicConfigKeys.Apply(_log.Options.DefaultTopicConfig, overrides);
            if (validateOnly) return;
            _metadata.UpsertTopic(new StoredTopic(name, topic.PartitionCount, overrides));
            topic.Config = config;
        }
    }

    private void Remember(string name, Guid id)
    {
        _ids[name] = id;
        _names[id] = name;
    }

    private static Guid NewId(MetadataCollection ids, string name)
    {
        var id = Guid.NewGuid();
        ids.Put(name, 0, id.ToString("D"));
        return id;
    }
}
