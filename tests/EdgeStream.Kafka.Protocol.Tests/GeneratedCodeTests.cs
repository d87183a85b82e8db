using EdgeStream.KafkaCodegen;

namespace EdgeStream.Kafka.Protocol.Tests;

/// <summary>The committed *.g.cs must be exactly what the generator makes from the committed extract.</summary>
public class GeneratedCodeTests
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EdgeStream.sln")))
                return dir.FullName;
        throw new InvalidOperationException("EdgeStream.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Generate_FromCommittedExtract_MatchesCommittedCode()
    {
        var root = RepoRoot();
        var extract = RepoPaths.ExtractPath(root);
        var committed = RepoPaths.MessagesPath(root);
        Assert.True(File.Exists(extract), $"missing {extract}");

        var temp = Path.Combine(Path.GetTempPath(), "edgestream-codegen-" + Guid.NewGuid().ToString("N"));
        try
        {
            var count = CodeGenerator.GenerateToDirectory(extract, temp);
            var fresh = Directory.GetFiles(temp, "*.g.cs").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            var onDisk = Directory.GetFiles(committed, "*.g.cs").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(count, fresh.Count);
            Assert.Equal(fresh, onDisk);
            var stale = new List<string>();
            foreach (var name in fresh)
            {
                var expected = File.ReadAllBytes(Path.Combine(temp, name!));
                var actual = File.ReadAllBytes(Path.Combine(committed, name!));
                if (!expected.AsSpan().SequenceEqual(actual)) stale.Add(name!);
            }
            Assert.True(stale.Count == 0,
                "generated code is stale; run `dotnet run --project tools/EdgeStream.KafkaCodegen -- generate`: " + string.Join(", ", stale));
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    [Fact]
    public void Extract_Committed_HasNoDocumentationText()
    {
        var text = File.ReadAllText(RepoPaths.ExtractPath(RepoRoot()));
        Assert.DoesNotContain("\"about\"", text);
        Assert.DoesNotContain("Licensed to the Apache", text);
    }
}
