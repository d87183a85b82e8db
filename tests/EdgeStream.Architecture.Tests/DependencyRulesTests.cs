namespace EdgeStream.Architecture.Tests;

/// <summary>
/// The dependency rules of docs/ARCHITECTURE.md ("Libraries and their references"), checked on the
/// project graph, transitively: a rule broken through an intermediate project fails as well.
/// </summary>
public sealed class DependencyRulesTests
{
    private const string Records = "EdgeStream.Records";
    private const string Storage = "EdgeStream.Storage";
    private const string Uplink = "EdgeStream.Uplink";

    /// <summary>The libraries that speak a client-facing protocol (or its codec / client).</summary>
    private static readonly string[] ProtocolFrontEnds =
        ["EdgeStream.Kafka.Protocol", "EdgeStream.Kafka", "EdgeStream.Kafka.Client", "EdgeStream.Mqtt"];

    private static IEnumerable<ProjectNode> Libraries => SourceTree.Products.Values.Where(p => p.Path.StartsWith("shared/", StringComparison.Ordinal));

    private static IEnumerable<ProjectNode> Roles => SourceTree.Products.Values.Where(p =>
        p.Path.StartsWith("gateway/", StringComparison.Ordinal) || p.Path.StartsWith("cloud/", StringComparison.Ordinal)
        || p.Path.StartsWith("edge/", StringComparison.Ordinal));

    [Fact]
    public void Graph_KnownProjects_AreFound()
    {
        // Guards the rules below against passing vacuously after a rename or a move.
        foreach (var name in new[] { Records, Storage, Uplink, "EdgeStream.Kafka", "EdgeStream.Mqtt", "EdgeStream.Hosting", "EdgeStream.Agent", "EdgeStream.Gateway", "EdgeStream.Cloud" })
            Assert.True(SourceTree.Products.ContainsKey(name), $"{name} not found under {SourceTree.Root}");
        Assert.NotEmpty(Roles);
    }

    [Fact]
    public void Records_ReferencesOnlyCommon()
    {
        Assert.Equal(["EdgeStream.Common"], SourceTree.Closure(Records));
    }

    [Fact]
    public void Storage_KnowsNoProtocol()
    {
        var closure = SourceTree.Closure(Storage);
        Assert.All(ProtocolFrontEnds.Append(Uplink), p => Assert.DoesNotContain(p, closure));
    }

    [Fact]
    public void Libraries_NeverReferenceTheExecutableOrARole()
    {
        var forbidden = Roles.Select(r => r.Name).Append("EdgeStream.Agent").ToHashSet(StringComparer.Ordinal);
        foreach (var library in Libraries)
        {
            var bad = SourceTree.Closure(library.Name).Where(forbidden.Contains).ToArray();
            Assert.True(bad.Length == 0, $"{library.Path} references {string.Join(", ", bad)}");
        }
    }

    [Fact]
    public void Roles_DoNotReferenceEachOther()
    {
        var roles = Roles.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var role in Roles)
        {
            var bad = SourceTree.Closure(role.Name).Where(roles.Contains).ToArray();
            Assert.True(bad.Length == 0, $"{role.Path} references the role(s) {string.Join(", ", bad)}");
        }
    }

    [Fact]
    public void ProtocolFrontEnds_DoNotKnowTheUplink()
    {
        foreach (var frontEnd in ProtocolFrontEnds)
            Assert.DoesNotContain(Uplink, SourceTree.Closure(frontEnd));
    }

    [Fact]
    public void Mqtt_DoesNotReferenceKafka()
    {
        // MQTT and Kafka are peers over the log; what they share (the record-batch format, the partitioner) is in Records.
        var closure = SourceTree.Closure("EdgeStream.Mqtt");
        Assert.All(ProtocolFrontEnds.Where(p => p != "EdgeStream.Mqtt"), p => Assert.DoesNotContain(p, closure));
    }

    [Fact]
    public void Uplink_DoesNotKnowTheProtocolFrontEnds()
    {
        var closure = SourceTree.Closure(Uplink);
        Assert.All(ProtocolFrontEnds, p => Assert.DoesNotContain(p, closure));
    }

    [Fact]
    public void Mesh_KnowsNeitherStorageNorProtocols()
    {
        if (!SourceTree.Products.ContainsKey("EdgeStream.Mesh")) return;
        var closure = SourceTree.Closure("EdgeStream.Mesh");
        Assert.All(ProtocolFrontEnds.Append(Uplink).Append(Storage).Append(Records), p => Assert.DoesNotContain(p, closure));
    }

    [Fact]
    public void Files_IsAKafkaClientOnly()
    {
        // Files go through the log like any producer and consumer: the library speaks Kafka as a client and
        // never reaches into storage, metadata, the broker, MQTT or the uplink (the node wires it to its own
        // Kafka listener), so the same sender and receiver work against any Kafka-compatible broker.
        var closure = SourceTree.Closure("EdgeStream.Files");
        Assert.Contains("EdgeStream.Kafka.Client", closure);
        foreach (var p in new[] { Storage, "EdgeStream.Metadata", "EdgeStream.Kafka", "EdgeStream.Mqtt", Uplink, "EdgeStream.Hosting", "EdgeStream.Mesh" })
            Assert.DoesNotContain(p, closure);
    }

    [Fact]
    public void Cdc_WritesTheLogButKnowsNoProtocolNorTheUplink()
    {
        // CDC is a producer into the log like the MQTT bridge: it meets the rest (Kafka readers, the uplink) at the log.
        Assert.True(SourceTree.Products.ContainsKey("EdgeStream.Cdc"), "EdgeStream.Cdc not found");
        var closure = SourceTree.Closure("EdgeStream.Cdc");
        Assert.Contains(Storage, closure);
        Assert.Contains(Records, closure);
        Assert.All(ProtocolFrontEnds.Append(Uplink).Append("EdgeStream.Mesh"), p => Assert.DoesNotContain(p, closure));
    }

    [Fact]
    public void Sink_ReadsTheLogAndSpeaksKafkaOnlyAsAClient()
    {
        // The cloud sink is a reader of the log toward an external cluster: it never serves a protocol
        // (broker, MQTT) nor depends on the host or the mesh; the node wires it.
        Assert.True(SourceTree.Products.ContainsKey("EdgeStream.Sink"), "EdgeStream.Sink not found");
        var closure = SourceTree.Closure("EdgeStream.Sink");
        Assert.Contains(Storage, closure);
        Assert.Contains("EdgeStream.Kafka.Client", closure);
        foreach (var p in new[] { "EdgeStream.Kafka", "EdgeStream.Mqtt", "EdgeStream.Hosting", "EdgeStream.Mesh" })
            Assert.DoesNotContain(p, closure);
    }
}
