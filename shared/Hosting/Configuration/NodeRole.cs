namespace EdgeStream.Hosting.Configuration;

/// <summary>The tier a node runs as. One binary; the role decides which services the host composes.</summary>
public enum NodeRole
{
    /// <summary>A device or site node: accepts local producers, forwards to its parents.</summary>
    Edge,
    /// <summary>Aggregates many edges' uplinks and forwards to the cloud.</summary>
    Gateway,
    /// <summary>The ingest tier: accepts uplinks and hands data to the systems behind it.</summary>
    Cloud,
}

public static class NodeRoleText
{
    /// <summary>The word used on the command line, in environment variables and in node ids.</summary>
    public static string ToText(this NodeRole role) => role switch
    {
        NodeRole.Edge => "edge",
        NodeRole.Gateway => "gateway",
        NodeRole.Cloud => "cloud",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? text, out NodeRole role)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "edge": role = NodeRole.Edge; return true;
            case "gateway": role = NodeRole.Gateway; return true;
            case "cloud": role = NodeRole.Cloud; return true;
            default: role = default; return false;
        }
    }
}
