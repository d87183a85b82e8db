using System.Globalization;

namespace EdgeStream.Bench;

/// <summary>Prints result rows as a Markdown table, ready to paste into docs/BENCHMARKS.md.</summary>
public static class Report
{
    public static void Header(params string[] columns)
    {
        Console.WriteLine("| " + string.Join(" | ", columns) + " |");
        Console.WriteLine("|" + string.Concat(columns.Select(_ => "---|")));
    }

    public static void Row(params object[] cells) =>
        Console.WriteLine("| " + string.Join(" | ", cells.Select(Format)) + " |");

    private static string Format(object cell) => cell switch
    {
        double d => d.ToString(d >= 100 ? "N0" : "N2", CultureInfo.InvariantCulture),
        _ => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "",
    };
}
