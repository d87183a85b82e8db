using EdgeStream.Records;
using System.Text;
using EdgeStream.Kafka.Client;

namespace EdgeStream.Cli.Tests;

public sealed class ClientUnitTests
{
    // Vectors from Kafka's UtilsTest.testMurmur2: the Java client places keys by exactly these hashes.
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2Hash_JavaTestVectors_Match(string key, int expected) =>
        Assert.Equal(expected, Murmur2.Hash(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void PartitionerPartition_Unkeyed_GoesRoundRobin()
    {
        var partitioner = new Partitioner();
        var seen = Enumerable.Range(0, 6).Select(_ => partitioner.Partition(default, hasKey: false, 3)).ToArray();
        Assert.Equal([0, 1, 2, 0, 1, 2], seen);
    }

    [Theory]
    [InlineData("localhost:9092", "localhost", 9092)]
    [InlineData("127.0.0.1:1", "127.0.0.1", 1)]
    [InlineData("[::1]:9093", "::1", 9093)]
    public void BrokerAddressTryParse_Valid_ReturnsHostAndPort(string text, string host, int port)
    {
        Assert.True(BrokerAddress.TryParse(text, out var address, out _));
        Assert.Equal(new BrokerAddress(host, port), address);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:")]
    [InlineData("localhost:70000")]
    [InlineData(":9092")]
    [InlineData("::1:9092")]
    [InlineData("")]
    public void BrokerAddressTryParse_Invalid_ReturnsError(string text)
    {
        Assert.False(BrokerAddress.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
