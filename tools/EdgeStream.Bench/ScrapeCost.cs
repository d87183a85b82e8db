using System.Globalization;

namespace EdgeStream.Bench;

/// <summary>
/// The cost of being scraped, from several runs of each setting: median and spread (min–max) of the rate
/// and of the CPU per record, and the ratio of the scraped median to the unscraped one. Medians, because
/// on a shared machine one run that meets a neighbour's build is an outlier a mean would carry.
/// </summary>
public static class ScrapeCost
{
    /// <param name="runs">One entry per run: what was measured (a payload size, a scenario), whether it was scraped, records/s, CPU µs per record.</param>
    public static void Print(IEnumerable<(string What, bool Scraped, double RecordsPerSec, double CpuMicrosPerRecord)> runs)
    {
        Report.Header("run", "runs", "records/s median", "records/s min–max", "vs not scraped", "CPU µs/record median", "CPU µs/record min–max", "vs not scraped");
        foreach (var group in runs.GroupBy(r => r.What))
        {
            var plain = group.Where(r => !r.Scraped).ToList();
            var scraped = group.Where(r => r.Scraped).ToList();
            if (plain.Count == 0 || scraped.Count == 0) continue;
            var rateBase = Median(plain.Select(r => r.RecordsPerSec));
            var cpuBase = Median(plain.Select(r => r.CpuMicrosPerRecord));
            foreach (var (name, set) in new[] { ("not scraped", plain), ("scraped every 1 s", scraped) })
            {
                var rate = Median(set.Select(r => r.RecordsPerSec));
                var cpu = Median(set.Select(r => r.CpuMicrosPerRecord));
                Report.Row($"{group.Key}, {name}", set.Count, rate, Range(set.Select(r => r.RecordsPerSec), "N0"), (rate / rateBase).ToString("0.000", CultureInfo.InvariantCulture),
                    cpu, Range(set.Select(r => r.CpuMicrosPerRecord), "N2"), (cpu / cpuBase).ToString("0.000", CultureInfo.InvariantCulture));
            }
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static string Range(IEnumerable<double> values, string format)
    {
        var list = values.ToList();
        return $"{list.Min().ToString(format, CultureInfo.InvariantCulture)}–{list.Max().ToString(format, CultureInfo.InvariantCulture)}";
    }
}
