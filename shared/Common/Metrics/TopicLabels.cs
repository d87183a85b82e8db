namespace EdgeStream.Common.Metrics;

/// <summary>
/// The <c>topic</c> label of metrics, bounded: the first <see cref="MaxTopics"/> topics seen get their
/// own value, every later one is <see cref="Other"/>. A node with thousands of MQTT-mapped topics
/// would otherwise give Prometheus thousands of series per metric. Shared by every library so a topic
/// has the same label everywhere; set once at start-up (<c>--metrics-max-topics</c>).
/// </summary>
public static class TopicLabels
{
    public const string Other = BoundedLabels.Other;

    private static readonly BoundedLabels Labels = new(100);

    public static int MaxTopics
    {
        get => Labels.Max;
        set => Labels.Max = value;
    }

    /// <summary>The label value for <paramref name="topic"/>: itself while under the cap, else <see cref="Other"/>.</summary>
    public static string For(string topic) => Labels.For(topic);

    /// <summary>True if <paramref name="topic"/> has (or now gets) its own label.</summary>
    public static bool IsLabelled(string topic) => !string.Equals(For(topic), Other, StringComparison.Ordinal);
}
