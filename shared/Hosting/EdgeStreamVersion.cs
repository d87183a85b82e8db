using System.Reflection;

namespace EdgeStream.Hosting;

/// <summary>
/// The product version and the commit it was built from, both read from the entry assembly's informational
/// version ("0.1.0+&lt;commit&gt;"): the version comes from the repository's VERSION file, the commit from the SDK's
/// source-revision stamp. One place, so the status page, the logs and <c>edgestream version</c> agree.
/// </summary>
public static class EdgeStreamVersion
{
    private static readonly string s_informational = ReadInformational();

    /// <summary>The version without the commit, e.g. <c>0.1.0</c>.</summary>
    public static string Current { get; } = Split(s_informational).Version;

    /// <summary>The commit the binary was built from (12 hex digits), or <c>unknown</c> when built outside git.</summary>
    public static string Commit { get; } = Split(s_informational).Commit;

    /// <summary>Splits "VERSION+COMMIT" into its parts; the commit is shortened to 12 characters.</summary>
    public static (string Version, string Commit) Split(string informational)
    {
        var plus = informational.IndexOf('+');
        if (plus <= 0) return (informational, "unknown");
        var commit = informational[(plus + 1)..];
        return (informational[..plus], commit.Length > 12 ? commit[..12] : commit.Length == 0 ? "unknown" : commit);
    }

    private static string ReadInformational()
    {
        var assembly = Assembly.GetEntryAssembly() ?? typeof(EdgeStreamVersion).Assembly;
        return assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
               ?? assembly.GetName().Version?.ToString()
               ?? "0.0.0";
    }
}
