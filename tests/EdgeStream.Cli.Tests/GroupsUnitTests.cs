using EdgeStream.Kafka.Client;

namespace EdgeStream.Cli.Tests;

public sealed class GroupsUnitTests
{
    [Fact]
    public void RangeAssign_SevenPartitionsThreeMembers_ContiguousRangesFirstMembersGetExtra()
    {
        var plan = RangeAssignor.Assign(
            new Dictionary<string, IReadOnlyCollection<string>> { ["c"] = ["t"], ["a"] = ["t"], ["b"] = ["t"] },
            new Dictionary<string, int> { ["t"] = 7 });
        Assert.Equal([0, 1, 2], plan["a"]["t"]);
        Assert.Equal([3, 4], plan["b"]["t"]);
        Assert.Equal([5, 6], plan["c"]["t"]);
    }

    [Fact]
    public void RangeAssign_MoreMembersThanPartitionsAndMixedTopics_IdleMembersGetNothing()
    {
        var plan = RangeAssignor.Assign(
            new Dictionary<string, IReadOnlyCollection<string>> { ["a"] = ["t", "u"], ["b"] = ["t"], ["c"] = ["t"] },
            new Dictionary<string, int> { ["t"] = 2, ["u"] = 3 });
        Assert.Equal([0], plan["a"]["t"]);
        Assert.Equal([0, 1, 2], plan["a"]["u"]);
        Assert.Equal([1], plan["b"]["t"]);
        Assert.Empty(plan["c"]);
    }

    [Fact]
    public void ConsumerProtocol_AssignmentAndSubscription_RoundTrip()
    {
        var bytes = ConsumerProtocol.EncodeAssignment(new Dictionary<string, List<int>> { ["t"] = [2, 0], ["a"] = [1] });
        var assignment = ConsumerProtocol.DecodeAssignment(bytes);
        Assert.Equal(["a", "t"], assignment.AssignedPartitions.Select(p => p.Topic));
        Assert.Equal([0, 2], assignment.AssignedPartitions[1].Partitions);
        Assert.Equal(["x", "y"], ConsumerProtocol.DecodeSubscription(ConsumerProtocol.EncodeSubscription(["x", "y"])).Topics);
        Assert.Empty(ConsumerProtocol.DecodeAssignment(ReadOnlyMemory<byte>.Empty).AssignedPartitions);
    }

    [Fact]
    public void DecodeAssignment_NewerVersionWithTrailingFields_ReadsKnownFields()
    {
        var bytes = ConsumerProtocol.EncodeAssignment(new Dictionary<string, List<int>> { ["t"] = [0] });
        var newer = bytes.ToArray();
        newer[1] = 9; // version 9, with bytes we do not know after the fields we do
        var assignment = ConsumerProtocol.DecodeAssignment(newer.Concat(new byte[] { 1, 2, 3 }).ToArray());
        Assert.Equal([0], assignment.AssignedPartitions[0].Partitions);
    }
}
