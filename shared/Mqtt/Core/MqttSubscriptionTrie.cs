namespace EdgeStream.Mqtt.Core;

/// <summary>
/// The subscriptions of every session, indexed by topic level (MQTT §4.7): matching a topic walks
/// its levels once, following the literal child, the '+' child and the '#' child at each level,
/// instead of testing every filter. Not thread-safe: the broker holds its routing lock around it.
/// </summary>
public sealed class MqttSubscriptionTrie
{
    private sealed class Node
    {
        public Dictionary<string, Node>? Children;
        public Node? SingleLevel;   // '+'
        public Node? MultiLevel;    // '#'
        public List<MqttCoreSubscription>? Subscriptions;
        public Dictionary<string, MqttSharedGroup>? Groups;

        public bool IsEmpty => (Children is null || Children.Count == 0) && SingleLevel is null && MultiLevel is null &&
            (Subscriptions is null || Subscriptions.Count == 0) && (Groups is null || Groups.Count == 0);
    }

    private readonly Node _root = new();

    /// <summary>Subscriptions held (shared members counted one each).</summary>
    public int Count { get; private set; }

    /// <summary>Adds or replaces the session's subscription to the same filter (and group). Returns the shared group it joined, if any.</summary>
    public MqttSharedGroup? Add(MqttCoreSubscription subscription)
    {
        var node = _root;
        foreach (var level in subscription.Filter.Split('/'))
        {
            node = level switch
            {
                "+" => node.SingleLevel ??= new Node(),
                "#" => node.MultiLevel ??= new Node(),
                _ => Child(node, level),
            };
        }
        if (subscription.Group is { } name)
        {
            node.Groups ??= new Dictionary<string, MqttSharedGroup>(StringComparer.Ordinal);
            if (!node.Groups.TryGetValue(name, out var group)) node.Groups[name] = group = new MqttSharedGroup(name, subscription.Filter);
            if (group.Upsert(subscription)) Count++;
            return group;
        }
        var list = node.Subscriptions ??= [];
        var i = list.FindIndex(s => ReferenceEquals(s.Session, subscription.Session));
        if (i >= 0) list[i] = subscription;
        else
        {
            list.Add(subscription);
            Count++;
        }
        return null;
    }

    /// <summary>Removes the session's subscription to <paramref name="filter"/> in <paramref name="group"/> (null: not shared).</summary>
    public bool Remove(MqttCoreSession session, string filter, string? group)
    {
        var levels = filter.Split('/');
        return Remove(_root, levels, 0, session, group);
    }

    private bool Remove(Node node, string[] levels, int depth, MqttCoreSession session, string? group)
    {
        if (depth == levels.Length)
        {
            bool removed;
            if (group is not null)
            {
                MqttSharedGroup? g = null;
                removed = node.Groups is not null && node.Groups.TryGetValue(group, out g) && g.Remove(session);
                if (removed && g!.IsEmpty) node.Groups!.Remove(group);
            }
            else removed = node.Subscriptions is not null && node.Subscriptions.RemoveAll(s => ReferenceEquals(s.Session, session)) > 0;
            if (removed) Count--;
            return removed;
        }
        var level = levels[depth];
        var child = level switch
        {
            "+" => node.SingleLevel,
            "#" => node.MultiLevel,
            _ => node.Children is not null && node.Children.TryGetValue(level, out var c) ? c : null,
        };
        if (child is null || !Remove(child, levels, depth + 1, session, group)) return false;
        if (child.IsEmpty)
        {
            if (level == "+") node.SingleLevel = null;
            else if (level == "#") node.MultiLevel = null;
            else node.Children!.Remove(level);
        }
        return true;
    }

    /// <summary>
    /// Adds every subscription matching <paramref name="topic"/> to <paramref name="subscriptions"/> and
    /// every shared group matching it to <paramref name="groups"/>.
    /// </summary>
    public void Match(string topic, List<MqttCoreSubscription> subscriptions, List<MqttSharedGroup> groups)
    {
        // §4.7.2: a topic starting with '$' is not matched by a filter starting with a wildcard.
        Match(_root, topic, 0, topic.StartsWith('$'), subscriptions, groups);
    }

    private static void Match(Node node, string topic, int start, bool dollar, List<MqttCoreSubscription> subscriptions, List<MqttSharedGroup> groups)
    {
        var wildcards = !(dollar && start == 0);
        // 'a/#' also matches 'a' (§4.7.1.2): the '#' child matches at every level, the parent's included.
        if (wildcards && node.MultiLevel is { } multi) Collect(multi, subscriptions, groups);
        if (start > topic.Length)
        {
            Collect(node, subscriptions, groups);
            return;
        }
        var end = topic.IndexOf('/', start);
        if (end < 0) end = topic.Length;
        if (node.Children is { } children &&
            children.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(topic.AsSpan(start, end - start), out var child))
            Match(child, topic, end + 1, dollar, subscriptions, groups);
        if (wildcards && node.SingleLevel is { } single) Match(single, topic, end + 1, dollar, subscriptions, groups);
    }

    private static void Collect(Node node, List<MqttCoreSubscription> subscriptions, List<MqttSharedGroup> groups)
    {
        if (node.Subscriptions is { } list) subscriptions.AddRange(list);
        if (node.Groups is { } g) groups.AddRange(g.Values);
    }

    private static Node Child(Node node, string level)
    {
        node.Children ??= new Dictionary<string, Node>(StringComparer.Ordinal);
        if (!node.Children.TryGetValue(level, out var child)) node.Children[level] = child = new Node();
        return child;
    }
}
