using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeStream.Architecture.Tests;

/// <summary>
/// Log event ids are unique across the process, and each project keeps to its range. The ranges are
/// read from the table under "## Log event ids" in docs/ARCHITECTURE.md, the one place they are written.
/// </summary>
public sealed partial class LogEventIdTests
{
    private const string Document = "docs/ARCHITECTURE.md";
    private const string Heading = "## Log event ids";

    /// <summary>The folders that hold the projects of the one process (tests and tools log nothing the node does).</summary>
    private static readonly string[] ProductFolders = ["shared", "agent", "gateway", "cloud", "edge"];

    private static readonly Lazy<IReadOnlyList<EventIdRange>> Ranges = new(() => ReadRanges(File.ReadAllText(Path.Combine(SourceTree.Root, Document))));
    private static readonly Lazy<IReadOnlyList<LogDeclaration>> Declarations = new(ScanTree);

    [Fact]
    public void RangeTable_InArchitectureDoc_IsWellFormed()
    {
        var ranges = Ranges.Value;
        Assert.NotEmpty(ranges);
        var problems = new List<string>();
        foreach (var group in ranges.GroupBy(r => r.Library, StringComparer.Ordinal).Where(g => g.Count() > 1))
            problems.Add($"{group.Key} has {group.Count()} rows");
        foreach (var r in ranges.Where(r => r.First > r.Last || r.First < 1))
            problems.Add($"{r.Library}: {r} is not a range of positive ids");
        var sorted = ranges.OrderBy(r => r.First).ToArray();
        for (var i = 1; i < sorted.Length; i++)
            if (sorted[i].First <= sorted[i - 1].Last)
                problems.Add($"{sorted[i - 1].Library} {sorted[i - 1]} overlaps {sorted[i].Library} {sorted[i]}");
        Assert.True(problems.Count == 0, $"{Document}, \"{Heading}\":\n" + string.Join("\n", problems));
    }

    [Fact]
    public void RangeTable_EveryProject_HasARange()
    {
        var listed = Ranges.Value.Select(r => r.Library).ToHashSet(StringComparer.Ordinal);
        var missing = SourceTree.Products.Keys.Where(p => !listed.Contains(p)).Order(StringComparer.Ordinal).ToArray();
        Assert.True(missing.Length == 0, $"no row in {Document}, \"{Heading}\", for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void LoggerMessages_AcrossTheProcess_HaveUniqueIds()
    {
        var declarations = Declarations.Value;
        // Guards against passing vacuously: a scan that finds nothing proves nothing.
        Assert.True(declarations.Count >= 20, $"only {declarations.Count} [LoggerMessage] declarations found under {SourceTree.Root}");
        var clashes = declarations.Where(d => d.EventId is not null)
            .GroupBy(d => d.EventId!.Value)
            .Where(g => g.Count() > 1)
            .Select(g => $"event id {g.Key}: " + string.Join(", ", g.Select(d => d.Location)))
            .ToArray();
        Assert.True(clashes.Length == 0, "event ids used more than once:\n" + string.Join("\n", clashes));
    }

    [Fact]
    public void LoggerMessages_EachProject_KeepToItsRange()
    {
        var ranges = Ranges.Value.ToDictionary(r => r.Library, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var d in Declarations.Value)
        {
            if (d.EventId is not { } id)
                problems.Add($"{d.Location}: no literal event id (give it one from {d.Project}'s range)");
            else if (!ranges.TryGetValue(d.Project, out var range))
                problems.Add($"{d.Location}: {d.Project} has no range in {Document}, \"{Heading}\"");
            else if (id < range.First || id > range.Last)
                problems.Add($"{d.Location}: event id {id} is outside {d.Project}'s range {range}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Scan_CommentsStringsAndBothForms_ReadsOnlyTheDeclarations()
    {
        const string source = """
            // [LoggerMessage(1, LogLevel.Debug, "commented out")]
            /* [LoggerMessage(2, LogLevel.Debug, "in a block comment")] */
            internal static partial class Log
            {
                private const string Text = "[LoggerMessage(3, LogLevel.Debug, \"in a string\")]";
                private const string Interpolated = $"{Text}[LoggerMessage(4)] {(Text.Length > 0 ? "a)" : "b")}";
                [LoggerMessage(2000, LogLevel.Debug, "positional (with parentheses, and commas)")]
                public static partial void A(ILogger logger);
                [LoggerMessage(Level = LogLevel.Information,
                    EventId = 2001, Message = "named, over two lines: ')' ")]
                public static partial void B(ILogger logger);
                [LoggerMessage(LogLevel.Debug, "no id")]
                public static partial void C(ILogger logger);
            }
            """;
        var found = Scan(source, "x.cs", "P").Select(d => (d.EventId, d.Line)).ToArray();
        Assert.Equal(new (int?, int)[] { (2000, 7), (2001, 9), (null, 12) }, found);
    }

    private static IReadOnlyList<LogDeclaration> ScanTree()
    {
        // A file belongs to the project whose folder is its nearest ancestor.
        var projects = SourceTree.Products.Values
            .Select(p => (p.Name, Folder: Path.GetDirectoryName(p.Path)!.Replace('\\', '/') + "/"))
            .OrderByDescending(p => p.Folder.Length)
            .ToArray();
        var result = new List<LogDeclaration>();
        foreach (var folder in ProductFolders)
        {
            var root = Path.Combine(SourceTree.Root, folder);
            if (!Directory.Exists(root)) continue;
            foreach (var path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(SourceTree.Root, path).Replace('\\', '/');
                if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal)
                    || relative.EndsWith(".g.cs", StringComparison.Ordinal))
                    continue;
                var text = File.ReadAllText(path);
                if (text.Contains("<auto-generated", StringComparison.Ordinal)) continue;
                var project = projects.FirstOrDefault(p => relative.StartsWith(p.Folder, StringComparison.Ordinal)).Name ?? $"(no project: {relative})";
                result.AddRange(Scan(text, relative, project));
            }
        }
        return result;
    }

    /// <summary>
    /// Every <c>[LoggerMessage(...)]</c> in <paramref name="text"/>, with its event id: the first
    /// positional argument, or <c>EventId = N</c>. Null when neither is an integer literal.
    /// </summary>
    private static IEnumerable<LogDeclaration> Scan(string text, string file, string project)
    {
        var code = CSharpSource.CodeOnly(text);
        foreach (Match m in AttributeStart().Matches(code))
        {
            var open = m.Index + m.Length - 1;
            var arguments = Arguments(code, open);
            int? id = null;
            foreach (var argument in arguments)
            {
                var named = NamedArgument().Match(argument);
                if (named.Success && named.Groups[1].Value == "EventId") id = IntegerLiteral(named.Groups[2].Value);
            }
            if (id is null && arguments.Count > 0 && !NamedArgument().IsMatch(arguments[0])) id = IntegerLiteral(arguments[0]);
            yield return new LogDeclaration(file, CSharpSource.LineOf(text, m.Index), project, id);
        }
    }

    /// <summary>The top-level arguments between the '(' at <paramref name="open"/> and its ')'.</summary>
    private static List<string> Arguments(string code, int open)
    {
        var arguments = new List<string>();
        var depth = 0;
        var start = open + 1;
        for (var i = open; i < code.Length; i++)
        {
            var ch = code[i];
            if (ch is '(' or '[' or '{') depth++;
            else if (ch is ')' or ']' or '}')
            {
                if (--depth > 0) continue;
                if (i > start || arguments.Count > 0) arguments.Add(code[start..i].Trim());
                return arguments;
            }
            else if (ch == ',' && depth == 1)
            {
                arguments.Add(code[start..i].Trim());
                start = i + 1;
            }
        }
        return arguments;
    }

    private static int? IntegerLiteral(string text) =>
        int.TryParse(text.Trim().Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static IReadOnlyList<EventIdRange> ReadRanges(string markdown)
    {
        var lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var at = Array.IndexOf(lines, Heading);
        Assert.True(at >= 0, $"{Document} has no heading \"{Heading}\"");
        var rows = lines.Skip(at + 1)
            .TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .SkipWhile(l => !l.StartsWith('|'))
            .TakeWhile(l => l.StartsWith('|'))
            .Skip(2) // the header and its |---| line
            .ToArray();
        var ranges = new List<EventIdRange>();
        foreach (var row in rows)
        {
            var cells = row.Split('|').Select(c => c.Trim()).ToArray();
            var match = cells.Length >= 3 ? RangeCell().Match(cells[2]) : Match.Empty;
            Assert.True(match.Success, $"{Document}, \"{Heading}\": cannot read the row '{row}' (expected | EdgeStream.Name | 1000–1099 |)");
            ranges.Add(new EventIdRange(cells[1].Trim('`'),
                int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)));
        }
        return ranges;
    }

    [GeneratedRegex(@"\[\s*(?:[\w.]+\.)?LoggerMessage(?:Attribute)?\s*\(")]
    private static partial Regex AttributeStart();

    [GeneratedRegex(@"^([A-Za-z_]\w*)\s*=\s*(.*)$", RegexOptions.Singleline)]
    private static partial Regex NamedArgument();

    [GeneratedRegex(@"^(\d+)\s*[–-]\s*(\d+)$")]
    private static partial Regex RangeCell();

    private sealed record LogDeclaration(string File, int Line, string Project, int? EventId)
    {
        public string Location => $"{File}:{Line}";
    }

    private sealed record EventIdRange(string Library, int First, int Last)
    {
        public override string ToString() => $"{First}–{Last}";
    }
}
