using EdgeStream.Metadata;

namespace EdgeStream.Agent.Tests;

public sealed class MetadataStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string DbPath => _dir.Combine("meta.db");

    [Fact]
    public void EnsureNodeIdentity_FirstCall_GeneratesRolePrefixedId()
    {
        using var store = MetadataStore.Open(DbPath);

        var identity = store.EnsureNodeIdentity("edge", requestedNodeId: null);

        Assert.True(identity.Created);
        Assert.Matches("^edge-[0-9a-f]{8}$", identity.NodeId);
        Assert.Null(identity.PreviousNodeId);
    }

    [Fact]
    public void EnsureNodeIdentity_Reopened_KeepsTheSameId()
    {
        string first;
        using (var store = MetadataStore.Open(DbPath)) first = store.EnsureNodeIdentity("edge", null).NodeId;

        using var reopened = MetadataStore.Open(DbPath);
        var again = reopened.EnsureNodeIdentity("gateway", null);

        Assert.Equal(first, again.NodeId);
        Assert.False(again.Created);
        Assert.Equal(first, reopened.GetNodeIdentity()!.NodeId);
    }

    [Fact]
    public void EnsureNodeIdentity_RequestedOnFirstUse_IsStored()
    {
        using (var store = MetadataStore.Open(DbPath)) store.EnsureNodeIdentity("edge", "plant-7");

        using var reopened = MetadataStore.Open(DbPath);
        Assert.Equal("plant-7", reopened.EnsureNodeIdentity("edge", null).NodeId);
    }

    [Fact]
    public void EnsureNodeIdentity_RequestedDiffersFromStored_RenamesAndReportsPrevious()
    {
        using var store = MetadataStore.Open(DbPath);
        var generated = store.EnsureNodeIdentity("edge", null).NodeId;

        var renamed = store.EnsureNodeIdentity("edge", "plant-7");

        Assert.Equal("plant-7", renamed.NodeId);
        Assert.Equal(generated, renamed.PreviousNodeId);
        Assert.Equal("plant-7", store.EnsureNodeIdentity("edge", null).NodeId);
    }

    [Fact]
    public void GetNodeIdentity_NewStore_ReturnsNull()
    {
        using var store = MetadataStore.Open(DbPath);

        Assert.Null(store.GetNodeIdentity());
    }

    [Fact]
    public void UpsertTopic_ThenList_ReturnsTopicsByName()
    {
        using var store = MetadataStore.Open(DbPath);
        store.UpsertTopic(new StoredTopic("b", 3, new Dictionary<string, string> { ["retention.ms"] = "1000" }));
        store.UpsertTopic(new StoredTopic("a", 1, new Dictionary<string, string>()));

        var topics = store.ListTopics();

        Assert.Equal(["a", "b"], topics.Select(t => t.Name));
        Assert.Equal(3, topics[1].Partitions);
        Assert.Equal("1000", topics[1].Config["retention.ms"]);
    }

    [Fact]
    public void UpsertTopic_Existing_ReplacesPartitionsAndConfig()
    {
        using var store = MetadataStore.Open(DbPath);
        store.UpsertTopic(new StoredTopic("t", 1, new Dictionary<string, string> { ["x"] = "1" }));

        store.UpsertTopic(new StoredTopic("t", 4, new Dictionary<string, string> { ["y"] = "2" }));

        var t = store.GetTopic("t")!;
        Assert.Equal(4, t.Partitions);
        Assert.False(t.Config.ContainsKey("x"));
        Assert.Equal("2", t.Config["y"]);
    }

    [Fact]
    public void DeleteTopic_ExistingThenMissing_ReturnsTrueThenFalse()
    {
        using var store = MetadataStore.Open(DbPath);
        store.UpsertTopic(new StoredTopic("t", 1, new Dictionary<string, string>()));

        Assert.True(store.DeleteTopic("t"));
        Assert.False(store.DeleteTopic("t"));
        Assert.Null(store.GetTopic("t"));
    }

    [Fact]
    public void UpsertTopic_ZeroPartitions_Throws()
    {
        using var store = MetadataStore.Open(DbPath);

        Assert.Throws<ArgumentOutOfRangeException>(() => store.UpsertTopic(new StoredTopic("t", 0, new Dictionary<string, string>())));
    }

    [Fact]
    public void CollectionPut_ThenReopen_SurvivesAndListsByPrefix()
    {
        using (var store = MetadataStore.Open(DbPath))
        {
            var offsets = store.Collection("offsets");
            offsets.Put("g1/t/0", 42, "meta");
            offsets.Put("g1/t/1", 7);
            offsets.Put("g2/t/0", 1);
        }

        using var reopened = MetadataStore.Open(DbPath);
        var list = reopened.Collection("offsets").List("g1/");

        Assert.Equal(["g1/t/0", "g1/t/1"], list.Select(e => e.Key));
        Assert.Equal(42, list[0].Number);
        Assert.Equal("meta", list[0].Text);
        Assert.Null(list[1].Text);
    }

    [Fact]
    public void CollectionTryGet_MissingKey_ReturnsFalse()
    {
        using var store = MetadataStore.Open(DbPath);

        Assert.False(store.Collection("cursors").TryGet("nope", out _));
    }

    [Fact]
    public void CollectionDelete_Existing_RemovesEntry()
    {
        using var store = MetadataStore.Open(DbPath);
        var c = store.Collection("cursors");
        c.Put("k", 1);

        Assert.True(c.Delete("k"));
        Assert.False(c.TryGet("k", out _));
    }

    [Fact]
    public void Collections_WithDifferentNames_AreIndependent()
    {
        using var store = MetadataStore.Open(DbPath);
        store.Collection("a").Put("k", 1);

        Assert.False(store.Collection("b").TryGet("k", out _));
    }

    [Theory]
    [InlineData("has-dash")]
    [InlineData("a b")]
    [InlineData("")]
    public void Collection_BadName_Throws(string name)
    {
        using var store = MetadataStore.Open(DbPath);

        Assert.ThrowsAny<ArgumentException>(() => store.Collection(name));
    }

    [Fact]
    public async Task CollectionPut_FromManyThreads_StoresEveryEntry()
    {
        using var store = MetadataStore.Open(DbPath);
        var c = store.Collection("offsets");

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 50; i++) c.Put($"t{t}/{i}", i);
        })));

        Assert.Equal(400, c.List().Count);
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        var store = MetadataStore.Open(DbPath);
        store.Dispose();

        Assert.Throws<ObjectDisposedException>(() => store.ListTopics());
    }

    [Fact]
    public void Open_PathIsADirectory_ThrowsMetadataException()
    {
        Directory.CreateDirectory(DbPath);

        Assert.Throws<MetadataException>(() => MetadataStore.Open(DbPath));
    }

    [Fact]
    public void Open_GarbageFile_ThrowsMetadataExceptionNamingTheFile()
    {
        File.WriteAllBytes(DbPath, Enumerable.Range(0, 16384).Select(i => (byte)(i * 31 + 7)).ToArray());

        var ex = Assert.Throws<MetadataException>(() => MetadataStore.Open(DbPath));

        Assert.Contains(DbPath, ex.Message);
    }
}
