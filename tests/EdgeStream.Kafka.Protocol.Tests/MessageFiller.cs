using System.Collections;
using System.Reflection;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Protocol.Tests;

/// <summary>
/// Test-only, reflection-based: fills every property of a generated message with deterministic
/// non-default values (two elements per list), so a round trip exercises every field.
/// </summary>
internal static class MessageFiller
{
    public static IReadOnlyList<Type> AllMessageTypes { get; } = typeof(ApiKey).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(ApiKey).Namespace && !t.IsNested && t.IsClass
                    && typeof(IKafkaMessage).IsAssignableFrom(t))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToList();

    public static short Lowest(Type t) => (short)t.GetField("LowestSupportedVersion")!.GetRawConstantValue()!;
    public static short Highest(Type t) => (short)t.GetField("HighestSupportedVersion")!.GetRawConstantValue()!;

    public static IKafkaMessage Create(Type type, int seed)
    {
        var counter = seed;
        return (IKafkaMessage)Fill(type, ref counter, 0);
    }

    private static object Fill(Type type, ref int counter, int depth)
    {
        var instance = Activator.CreateInstance(type)!;
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!p.CanWrite) continue;
            p.SetValue(instance, Value(p.PropertyType, ref counter, depth));
        }
        return instance;
    }

    private static object? Value(Type type, ref int counter, int depth)
    {
        var n = ++counter;
        if (type == typeof(bool)) return true;
        if (type == typeof(sbyte)) return (sbyte)(n % 100 + 1);
        if (type == typeof(short)) return (short)(n % 30000 + 1);
        if (type == typeof(ushort)) return (ushort)(n % 60000 + 1);
        if (type == typeof(int)) return n * 7 + 1;
        if (type == typeof(uint)) return (uint)(n * 7 + 1);
        if (type == typeof(long)) return n * 1_000_003L + 1;
        if (type == typeof(double)) return n + 0.5;
        if (type == typeof(string)) return $"s{n}-é";
        if (type == typeof(Guid))
        {
            var bytes = new byte[16];
            for (var i = 0; i < 16; i++) bytes[i] = (byte)(n + i * 13);
            return new Guid(bytes);
        }
        if (type == typeof(byte[])) return new byte[] { (byte)n, 1, 2, 3 };
        if (type == typeof(ReadOnlyMemory<byte>?) || type == typeof(ReadOnlyMemory<byte>))
            return new ReadOnlyMemory<byte>([(byte)n, 9, 8, 7, 6]);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(type)!;
            var element = type.GetGenericArguments()[0];
            for (var i = 0; i < 2; i++) list.Add(Value(element, ref counter, depth + 1));
            return list;
        }
        if (type.IsClass && depth < 8) return Fill(type, ref counter, depth + 1);
        throw new NotSupportedException(type.FullName);
    }
}
