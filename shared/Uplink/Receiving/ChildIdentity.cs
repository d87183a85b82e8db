namespace EdgeStream.Uplink.Receiving;

/// <summary>The tier of a child node, from its "es-role" header.</summary>
public enum ChildRole
{
    /// <summary>May only send its own data (frames whose origin is its node id).</summary>
    Edge,
    /// <summary>Relays its children's data: any origin.</summary>
    Gateway,
}

/// <summary>Who is on the other end of an uplink stream, from the "es-node-id" and "es-role" request headers.</summary>
public sealed record ChildIdentity(string NodeId, ChildRole Role)
{
    public const string NodeIdHeader = "es-node-id";
    public const string RoleHeader = "es-role";

    /// <summary>Parses the two headers; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? nodeId, string? role, out ChildIdentity? identity, out string error)
    {
        identity = null;
        if (string.IsNullOrEmpty(nodeId)) { error = $"missing request header '{NodeIdHeader}'"; return false; }
        if (!IsValidNodeId(nodeId)) { error = $"header '{NodeIdHeader}' is not a node id (1-64 of A-Z a-z 0-9 . _ -)"; return false; }
        if (string.IsNullOrEmpty(role)) { error = $"missing request header '{RoleHeader}'"; return false; }
        ChildRole parsed;
        if (string.Equals(role, "edge", StringComparison.OrdinalIgnoreCase)) parsed = ChildRole.Edge;
        else if (string.Equals(role, "gateway", StringComparison.OrdinalIgnoreCase)) parsed = ChildRole.Gateway;
        else { error = $"header '{RoleHeader}' must be edge or gateway"; return false; }
        identity = new ChildIdentity(nodeId, parsed);
        error = "";
        return true;
    }

    /// <summary>The agent's node id rule: 1-64 of letters, digits, '.', '_' and '-'.</summary>
    public static bool IsValidNodeId(string s)
    {
        if (s.Length is < 1 or > 64) return false;
        foreach (var c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        }
        return true;
    }

    public override string ToString() => $"{(Role == ChildRole.Edge ? "edge" : "gateway")} {NodeId}";
}
