namespace EdgeStream.Uplink.Protocol;

/// <summary>The record headers a parent adds so consumers can tell where a record came from.</summary>
public static class OriginHeaders
{
    /// <summary>Node id of the origin (UTF-8).</summary>
    public const string Node = "es.origin.node";
    /// <summary>Topic on the origin node (UTF-8).</summary>
    public const string Topic = "es.origin.topic";
    /// <summary>Partition on the origin node (decimal text).</summary>
    public const string Partition = "es.origin.partition";
    /// <summary>Offset on the origin node (decimal text).</summary>
    public const string Offset = "es.origin.offset";

    /// <summary>True for the four headers above (a relaying sender strips them; the frame carries them).</summary>
    public static bool IsOriginHeader(string key) => key is Node or Topic or Partition or Offset;
}
