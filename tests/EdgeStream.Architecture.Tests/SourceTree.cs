using System.Reflection;
using System.Xml.Linq;

namespace EdgeStream.Architecture.Tests;

/// <summary>The repository this test assembly was built from, and its projects' reference graph.</summary>
internal static class SourceTree
{
    public static string Root { get; } = typeof(SourceTree).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>Every project outside tests/ and tools/, by assembly-style name (EdgeStream.Storage, EdgeStream.Agent, …).</summary>
    public static IReadOnlyDictionary<string, ProjectNode> Products { get; } = LoadProducts();

    private static Dictionary<string, ProjectNode> LoadProducts()
    {
        var projects = new Dictionary<string, ProjectNode>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(Root, "*.csproj", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Root, path).Replace('\\', '/');
            if (relative.StartsWith("tests/", StringComparison.Ordinal) || relative.StartsWith("tools/", StringComparison.Ordinal)
                || relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal))
                continue;
            var references = XDocument.Load(path).Descendants("ProjectReference")
                .Select(e => Path.GetFileNameWithoutExtension((string)e.Attribute("Include")!.Value.Replace('\\', '/')))
                .ToArray();
            var name = Path.GetFileNameWithoutExtension(path);
            projects.Add(name, new ProjectNode(name, relative, references));
        }
        return projects;
    }

    /// <summary>Everything <paramref name="project"/> references, directly or through other projects.</summary>
    public static IReadOnlySet<string> Closure(string project)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var todo = new Stack<string>(Products[project].References);
        while (todo.Count > 0)
        {
            var next = todo.Pop();
            if (!seen.Add(next)) continue;
            if (Products.TryGetValue(next, out var node))
                foreach (var r in node.References) todo.Push(r);
        }
        return seen;
    }
}

internal sealed record ProjectNode(string Name, string Path, IReadOnlyList<string> References);
