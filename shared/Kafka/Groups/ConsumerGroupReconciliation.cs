namespace EdgeStream.Kafka.Groups;

/// <summary>
/// Moves one member toward its target assignment, incrementally, as Kafka's CurrentAssignmentBuilder
/// does: first it is told to revoke what its target no longer holds (keeping its epoch); once a
/// heartbeat shows it owns none of those, they are released and it advances to the assignment epoch
/// with every target partition nobody else holds. Partitions another member still holds stay
/// pending until that member releases them, so no partition ever has two owners.
/// </summary>
internal static class ConsumerGroupReconciliation
{
    /// <param name="owned">The partitions the heartbeat says the member owns; null when it did not say.</param>
    public static void Reconcile(ConsumerGroup group, ConsumerGroupMember member, IReadOnlyCollection<TopicPartitionKey>? owned, long nowMs)
    {
        if (member.MemberEpoch == ConsumerGroupMember.StaticLeaveEpoch) return;
        switch (member.Reconciliation)
        {
            case MemberReconciliation.UnrevokedPartitions:
                if (owned is null) return;
                foreach (var p in owned)
                    if (member.PendingRevocation.Contains(p)) return; // still consuming them
                foreach (var p in member.PendingRevocation) group.Release(p, member.MemberId);
                member.PendingRevocation = [];
                break;
            case MemberReconciliation.Stable when member.MemberEpoch == group.AssignmentEpoch:
                return;
        }
        ComputeNextAssignment(group, member, nowMs);
    }

    private static void ComputeNextAssignment(ConsumerGroup group, ConsumerGroupMember member, long nowMs)
    {
        var target = group.TargetAssignment.GetValueOrDefault(member.MemberId) ?? [];
        var revoke = new HashSet<TopicPartitionKey>();
        foreach (var p in member.Assigned)
            if (!target.Contains(p)) revoke.Add(p);
        if (revoke.Count > 0)
        {
            // The member keeps its epoch and the partitions it keeps; the response's smaller
            // assignment is what tells the client to revoke the rest.
            var keep = new HashSet<TopicPartitionKey>(member.Assigned);
            keep.ExceptWith(revoke);
            member.Assigned = keep;
            member.PendingRevocation = revoke;
            member.Reconciliation = MemberReconciliation.UnrevokedPartitions;
            member.RevocationDeadlineMs = nowMs + Math.Max(member.RebalanceTimeoutMs, 0);
            return;
        }
        var assigned = new HashSet<TopicPartitionKey>(member.Assigned);
        var unreleased = false;
        foreach (var p in target)
        {
            if (assigned.Contains(p)) continue;
            if (group.Owners.TryGetValue(p, out var owner) && owner != member.MemberId)
            {
                unreleased = true;
                continue;
            }
            assigned.Add(p);
            group.Owners[p] = member.MemberId;
        }
        member.Assigned = assigned;
        if (member.MemberEpoch != group.AssignmentEpoch)
        {
            member.PreviousMemberEpoch = member.MemberEpoch;
            member.MemberEpoch = group.AssignmentEpoch;
        }
        member.Reconciliation = unreleased ? MemberReconciliation.UnreleasedPartitions : MemberReconciliation.Stable;
    }
}
