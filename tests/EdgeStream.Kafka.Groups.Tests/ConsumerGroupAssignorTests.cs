namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>The server-side assignors' shapes: "range" keeps partition i of every topic together, "uniform" balances counts and sticks.</summary>
public sealed class ConsumerGroupAssignorTests
{
    private static readonly Dictionary<string, int> TwoTopicsOfThree = new() { ["a"] = 3, ["b"] = 3 };

    private static AssignorMember Member(string id, params TopicPartitionKey[] current) =>
        new(id, new HashSet<string> { "a", "b" }, current.ToHashSet());

    private static string Shape(HashSet<TopicPartitionKey> partitions) =>
        string.Join(' ', partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition).Select(p => $"{p.Topic}{p.Partition}"));

    [Fact]
    public void Range_TwoMembersTwoTopicsOfThree_CoPartitionedAndUneven()
    {
        var result = new RangeAssignor().Assign([Member("m1"), Member("m2")], TwoTopicsOfThree);
        Assert.Equal("a0 a1 b0 b1", Shape(result["m1"]));
        Assert.Equal("a2 b2", Shape(result["m2"]));
    }

    [Fact]
    public void Uniform_TwoMembersTwoTopicsOfThree_ThreeEach()
    {
        var result = new UniformAssignor().Assign([Member("m1"), Member("m2")], TwoTopicsOfThree);
        Assert.Equal(3, result["m1"].Count);
        Assert.Equal(3, result["m2"].Count);
        Assert.Empty(result["m1"].Intersect(result["m2"]));
    }

    [Fact]
    public void Uniform_ThirdMemberJoins_OnlyWhatItNeedsMoves()
    {
        var m1 = new[] { new TopicPartitionKey("a", 0), new("a", 1), new("a", 2) };
        var m2 = new[] { new TopicPartitionKey("b", 0), new("b", 1), new("b", 2) };
        var result = new UniformAssignor().Assign([Member("m1", m1), Member("m2", m2), Member("m3")], TwoTopicsOfThree);
        Assert.All(result.Values, partitions => Assert.Equal(2, partitions.Count));
        Assert.Subset(m1.ToHashSet(), result["m1"]);
        Assert.Subset(m2.ToHashSet(), result["m2"]);
        Assert.Equal(6, result.Values.SelectMany(p => p).Distinct().Count());
    }

    [Fact]
    public void BothAssignors_OnlySubscribedTopicsGoToAMember()
    {
        var members = new List<AssignorMember>
        {
            new("m1", new HashSet<string> { "a" }, new HashSet<TopicPartitionKey>()),
            new("m2", new HashSet<string> { "a", "b" }, new HashSet<TopicPartitionKey>()),
        };
        foreach (IConsumerGroupAssignor assignor in new IConsumerGroupAssignor[] { new UniformAssignor(), new RangeAssignor() })
        {
            var result = assignor.Assign(members, TwoTopicsOfThree);
            Assert.DoesNotContain(result["m1"], p => p.Topic == "b");
            Assert.Equal(6, result.Values.SelectMany(p => p).Distinct().Count());
        }
    }
}
