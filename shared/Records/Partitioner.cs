namespace EdgeStream.Records;

/// <summary>
/// The default partitioner: a keyed record goes to <c>murmur2(key) &amp; 0x7fffffff % partitions</c>, exactly
/// as the Java client (and librdkafka's <c>murmur2_random</c>) place it, so a key lands in the same
/// partition whichever client produced it; unkeyed records go round-robin.
/// </summary>
public sealed class Partitioner
{
    private uint _next;

    /// <summary>The partition for a record with <paramref name="key"/> (null: the next in round-robin order).</summary>
    public int Partition(ReadOnlySpan<byte> key, bool hasKey, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        if (hasKey) return ForKey(key, partitionCount);
        return (int)(_next++ % (uint)partitionCount);
    }

    public static int ForKey(ReadOnlySpan<byte> key, int partitionCount) =>
        (Murmur2.Hash(key) & 0x7fffffff) % partitionCount;
}

/// <summary>
/// MurmurHash2, 32-bit, as in Kafka's <c>org.apache.kafka.common.utils.Utils.murmur2</c>
/// (seed 0x9747b28c, little-endian blocks, Java's signed result).
/// </summary>
public static class Murmur2
{
    public static int Hash(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28c ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = (uint)(data[i * 4] | data[i * 4 + 1] << 8 | data[i * 4 + 2] << 16 | data[i * 4 + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        var tail = length & ~3;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return unchecked((int)h);
    }
}
