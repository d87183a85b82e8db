namespace EdgeStream.Gateway;

/// <summary>What only a gateway does (accepting many edges' uplinks, aggregation) lives here as it lands.</summary>
public static class GatewayRole
{
    public const string Name = "gateway";
}
