using System.Text.Json;
using EdgeStream.Kafka.Transactions;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>
/// The hand-written JSON of a stored transaction (its pending group offsets included) is byte for byte what
/// System.Text.Json wrote before, so data directories written by earlier versions stay readable and vice versa.
/// </summary>
public sealed class StoredTransactionJsonTests
{
    // What the source-generated serializer did: System.Text.Json's defaults (PascalCase names, default encoder).
    private static readonly JsonSerializerOptions Earlier = new();

    private static readonly StoredTransaction[] Samples =
    [
        new StoredTransaction(0, 60_000, "Empty", -1, [], [], []),
        new StoredTransaction(short.MaxValue, int.MaxValue, "Ongoing", 1_733_400_000_123, ["orders/0", "orders/11", "a.b_c-d/3"], ["g1"],
        [
            new StoredTxnOffset("g1", "orders", 0, 42, -1, null, 1_733_400_000_999),
            new StoredTxnOffset("grüppe <&'+\"\\>", "t\u00e9\u4e2d", int.MaxValue, long.MaxValue, 7, "meta \n \u0001 ✓", long.MinValue),
        ]),
        new StoredTransaction(-1, 1, "PrepareAbort", 0, ["t/2"], ["x", "y"], [new StoredTxnOffset("", "", 0, 0, 0, "", 0)]),
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Writes_what_the_earlier_serializer_wrote(int sample) =>
        Assert.Equal(JsonSerializer.Serialize(Samples[sample], Earlier), StoredTransactionJson.Write(Samples[sample]));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Reads_what_the_earlier_serializer_wrote(int sample)
    {
        var t = Samples[sample];
        var read = StoredTransactionJson.TryRead(JsonSerializer.Serialize(t, Earlier));
        Assert.NotNull(read);
        Assert.Equal((t.Epoch, t.TimeoutMs, t.State, t.StartTimeMs), (read.Epoch, read.TimeoutMs, read.State, read.StartTimeMs));
        Assert.Equal(t.Partitions, read.Partitions);
        Assert.Equal(t.Groups, read.Groups);
        Assert.Equal(t.Offsets, read.Offsets);
    }

    [Fact]
    public void Skips_unknown_properties_in_any_order()
    {
        var read = StoredTransactionJson.TryRead("""{"Later":{"a":[1,2]},"State":"CompleteCommit","Offsets":[{"Extra":true,"Topic":"t","Group":"g"}],"Epoch":3}""");
        Assert.NotNull(read);
        Assert.Equal(("CompleteCommit", (short)3), (read.State, read.Epoch));
        Assert.Equal(new StoredTxnOffset("g", "t", 0, 0, 0, null, 0), Assert.Single(read.Offsets));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"Epoch":"3","State":"Ongoing"}""")]
    [InlineData("""{"Epoch":70000,"State":"Ongoing"}""")]
    [InlineData("""{"State":"Ongoing","Partitions":[null]}""")]
    [InlineData("""{"State":"Ongoing","Offsets":[1]}""")]
    [InlineData("""{"Epoch":1}""")]
    [InlineData("""{"State":"Ongoing","Groups":["g"]""")]
    public void Damaged_text_reads_as_nothing(string json) => Assert.Null(StoredTransactionJson.TryRead(json));
}
