namespace EdgeStream.KafkaCodegen;

public static class RepoPaths
{
    /// <summary>Walks up from <paramref name="start"/> to the directory holding EdgeStream.sln.</summary>
    public static string FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EdgeStream.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"EdgeStream.sln not found above {start}");
    }

    public static string ExtractPath(string root) =>
        Path.Combine(root, "tools", "EdgeStream.KafkaCodegen", "spec", "kafka-messages.json");

    public static string MessagesPath(string root) =>
        Path.Combine(root, "shared", "Kafka.Protocol", "Messages");
}
