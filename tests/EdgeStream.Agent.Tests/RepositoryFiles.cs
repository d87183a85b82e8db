namespace EdgeStream.Agent.Tests;

/// <summary>Files of the repository the tests check against (README.md, VERSION, packaging/…), found from the test binary upward.</summary>
internal static class RepositoryFiles
{
    public static string Path(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "EdgeStream.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return System.IO.Path.Combine([dir.FullName, .. parts]);
    }

    public static string ReadAllText(params string[] parts) => File.ReadAllText(Path(parts));
}
