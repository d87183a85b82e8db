using System.Text;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using EdgeStream.Records;
using EdgeStream.Metadata;
using EdgeStream.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeStream.Agent.Tests;

/// <summary>The storage services in-process, over a real log.</summary>
public sealed class HostedServicesTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly MetadataStore _metadata;

    public HostedServicesTests() => _metadata = MetadataStore.Open(_dir.Combine("data", "meta.db"));

    public void Dispose()
    {
        _metadata.Dispose();
        _dir.Dispose();
    }

    private AgentOptions Options(params (string Name, string Value)[] flags)
    {
        var values = flags.ToDictionary(f => f.Name, f => (IReadOnlyList<string>)[f.Value]);
        values["data"] = [_dir.Combine("data")];
        return AgentConfiguration.Resolve(values, new Dictionary<string, string>(), _dir.Path);
    }

    [Fact]
    public async Task StorageHostedService_StartThenStop_OpensAndReleasesTheLog()
    {
        var options = Options();
        var state = new StorageState();
        var service = new StorageHostedService(options, state, _metadata, NullLoggerFactory.Instance);

        await service.StartAsync(CancellationToken.None);
        Assert.True(state.IsOpen);
        await service.StopAsync(CancellationToken.None);

        Assert.False(state.IsOpen);
        // The directory lock is released: the log opens again.
        await using var again = new LogManager(StorageHostedService.CreateStorageOptions(options));
        again.Open();
    }

    [Fact]
    public void CreateStorageOptions_AgentSettings_MapToStorageOptions()
    {
        var options = Options(("fsync", "always"), ("fsyncInterval", "7ms"), ("maxDisk", "1GiB"),
            ("segmentBytes", "4MiB"), ("retentionBytes", "64MiB"), ("retention", "3d"));

        var storage = StorageHostedService.CreateStorageOptions(options);

        Assert.Equal(Path.Combine(_dir.Path, "data", "log"), storage.LogDirectory);
        Assert.Equal(FsyncPolicy.Always, storage.FsyncPolicy);
        Assert.Equal(TimeSpan.FromMilliseconds(7), storage.GroupCommitInterval);
        Assert.Equal(1L << 30, storage.MaxDiskBytes);
        Assert.Equal(4L << 20, storage.DefaultTopicConfig.SegmentBytes);
        Assert.Equal(64L << 20, storage.DefaultTopicConfig.RetentionBytes);
        Assert.Equal(TimeSpan.FromDays(3), storage.DefaultTopicConfig.RetentionAge);
        storage.Validate();
    }

    [Fact]
    public async Task RetentionService_OldSegments_AreDeletedWithinDeadline()
    {
        var options = Options(("segmentBytes", "1KiB"), ("retention", "1d"), ("retentionCheckInterval", "50ms"));
        await using (var log = new LogManager(StorageHostedService.CreateStorageOptions(options)))
        {
            log.Open();
            var partition = log.CreateTopic("old", 1)[0];
            for (var i = 0; i < 20; i++)
            {
                var builder = new RecordBatchBuilder();
                // Timestamps from 2023: far older than the one-day retention.
                builder.Add(Encoding.UTF8.GetBytes($"k{i}"), Encoding.UTF8.GetBytes(new string('x', 300)), 1_700_000_000_000 + i);
                await partition.AppendAsync(builder.Build());
            }
        }
        var segmentDir = Path.Combine(options.LogDirectory, "old", "0");
        var before = Directory.GetFiles(segmentDir, "*.log").Length;
        Assert.True(before > 2, $"expected several segments, found {before}");

        var state = new StorageState();
        var storage = new StorageHostedService(options, state, _metadata, NullLoggerFactory.Instance);
        using var retention = new RetentionService(options, state, NullLogger<RetentionService>.Instance);
        await storage.StartAsync(CancellationToken.None);
        await retention.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => Directory.GetFiles(segmentDir, "*.log").Length == 1, TimeSpan.FromSeconds(20));

            Assert.Single(Directory.GetFiles(segmentDir, "*.log"));
        }
        finally
        {
            await retention.StopAsync(CancellationToken.None);
            await storage.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task OsFlushService_StopWhileRunning_StopsPromptly()
    {
        var options = Options(("fsync", "os"), ("flushInterval", "20ms"));
        var state = new StorageState();
        var storage = new StorageHostedService(options, state, _metadata, NullLoggerFactory.Instance);
        using var flusher = new OsFlushService(options, state, NullLogger<OsFlushService>.Instance);
        await storage.StartAsync(CancellationToken.None);
        state.Manager!.CreateTopic("t", 1);

        await flusher.StartAsync(CancellationToken.None);
        var stop = flusher.StopAsync(CancellationToken.None);

        Assert.Same(stop, await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(10))));
        await storage.StopAsync(CancellationToken.None);
    }
}
