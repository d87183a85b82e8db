namespace EdgeStream;

/// <summary>
/// The root of every exception EdgeStream throws on purpose. Callers that must keep a
/// process or connection alive catch this type; anything else is a bug.
/// </summary>
public class EdgeStreamException : Exception
{
    public EdgeStreamException(string message) : base(message) { }
    public EdgeStreamException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A configuration value or command-line flag is invalid. The message names the setting.</summary>
public sealed class ConfigurationException : EdgeStreamException
{
    public ConfigurationException(string message) : base(message) { }
}
