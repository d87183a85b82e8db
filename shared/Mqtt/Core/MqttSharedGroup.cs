namespace EdgeStream.Mqtt.Core;

/// <summary>
/// The members of one shared subscription <c>$share/{Name}/{Filter}</c> (MQTT 5 §4.8.2): each message
/// goes to one member, round-robin among the connected members, skipping those whose in-flight window
/// is full; with none that has room, the next connected member queues it; with none connected, the
/// next member's session does. Guarded by the broker's routing lock.
/// </summary>
public sealed class MqttSharedGroup
{
    private readonly List<MqttCoreSubscription> _members = [];
    private int _next;

    public MqttSharedGroup(string name, string filter)
    {
        Name = name;
        Filter = filter;
    }

    public string Name { get; }

    public string Filter { get; }

    public bool IsEmpty => _members.Count == 0;

    public int Count => _members.Count;

    /// <summary>Adds the member or replaces its options; true when it is new.</summary>
    internal bool Upsert(MqttCoreSubscription subscription)
    {
        var i = _members.FindIndex(m => ReferenceEquals(m.Session, subscription.Session));
        if (i >= 0)
        {
            _members[i] = subscription;
            return false;
        }
        _members.Add(subscription);
        return true;
    }

    internal bool Remove(MqttCoreSession session) => _members.RemoveAll(m => ReferenceEquals(m.Session, session)) > 0;

    /// <summary>The member the next message goes to, never <paramref name="except"/> when another exists; null for an empty group.</summary>
    public MqttCoreSubscription? Pick(MqttCoreSession? except = null)
    {
        var count = _members.Count;
        if (count == 0) return null;
        MqttCoreSubscription? connected = null, any = null;
        for (var i = 0; i < count; i++)
        {
            var index = (_next + i) % count;
            var member = _members[index];
            if (ReferenceEquals(member.Session, except)) continue;
            any ??= member;
            if (!member.Session.IsConnected) continue;
            connected ??= member;
            if (!member.Session.HasRoom) continue;
            _next = index + 1;
            return member;
        }
        var chosen = connected ?? any;
        if (chosen is not null) _next = _members.IndexOf(chosen) + 1;
        return chosen;
    }
}
