using EdgeStream.Metadata;
using EdgeStream.Storage;

namespace EdgeStream.Agent.Tests;

/// <summary>Kafka's config ranges apply to changes, not to overrides an older version already stored.</summary>
public sealed class TopicCatalogKafkaRangesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Load_StoredOverrideOutsideKafkasRange_NodeStartsAndAChangeIsRefusedInKafkasWording()
    {
        using var metadata = MetadataStore.Open(_dir.Combine("meta.db"));
        // Before Kafka's ranges were checked, any negative retention.ms was taken to mean "forever".
        metadata.UpsertTopic(new StoredTopic("legacy", 1, new Dictionary<string, string> { ["retention.ms"] = "-5" }));
        await using var log = new LogManager(new StorageOptions { LogDirectory = _dir.Combine("log") });
        var catalog = new TopicCatalog(log, metadata);

        catalog.Load();

        Assert.True(catalog.TryGet("legacy", out var topic));
        Assert.Null(topic!.Config.RetentionAge);
        var ex = Assert.Throws<ConfigurationException>(() => catalog.AlterConfig("legacy", new Dictionary<string, string?> { ["retention.ms"] = "-7" }, incremental: true));
        Assert.Equal("Invalid value -7 for configuration retention.ms: Value must be at least -1", ex.Message);
    }
}
