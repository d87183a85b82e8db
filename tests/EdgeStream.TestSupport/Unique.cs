namespace EdgeStream.TestSupport;

/// <summary>Names no other test uses, so tests can share an agent: topics, groups.</summary>
public static class Unique
{
    /// <summary><paramref name="prefix"/>, a dash and 12 random hex digits.</summary>
    public static string Name(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
