namespace EdgeStream.Cloud;

/// <summary>What only the cloud ingest tier does (handing data to systems behind it) lives here as it lands.</summary>
public static class CloudRole
{
    public const string Name = "cloud";
}
