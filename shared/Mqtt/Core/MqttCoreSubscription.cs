using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// One subscription of a session as the client asked for it (MQTT 5 §3.8.3.1 options), with its
/// shared group when the filter was <c>$share/{group}/{filter}</c> (§4.8.2).
/// </summary>
public sealed record MqttCoreSubscription(MqttCoreSession Session, string Filter, string? Group, MqttQualityOfServiceLevel Qos,
    bool NoLocal, bool RetainAsPublished, MqttRetainHandling RetainHandling, uint SubscriptionId)
{
    private const string SharePrefix = "$share/";

    /// <summary>The filter as the client wrote it (with the <c>$share/{group}/</c> prefix for a shared one).</summary>
    public string Requested => Group is null ? Filter : SharePrefix + Group + "/" + Filter;

    /// <summary>
    /// Splits <c>$share/{group}/{filter}</c> into group and filter; any other filter has no group.
    /// False for a malformed shared filter (empty group, or a group with '+' or '#', or no filter).
    /// </summary>
    public static bool TryParseShared(string requested, out string? group, out string filter)
    {
        group = null;
        filter = requested;
        if (!requested.StartsWith(SharePrefix, StringComparison.Ordinal)) return true;
        var slash = requested.IndexOf('/', SharePrefix.Length);
        if (slash <= SharePrefix.Length || slash == requested.Length - 1) return false;
        group = requested[SharePrefix.Length..slash];
        if (group.AsSpan().IndexOfAny('+', '#') >= 0) return false;
        filter = requested[(slash + 1)..];
        return true;
    }
}
