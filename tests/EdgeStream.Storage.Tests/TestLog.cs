using System.Text;
using EdgeStream.Records;
using Record = EdgeStream.Records.Record;

namespace EdgeStream.Storage.Tests;

internal static class Batches
{
    public static byte[] Of(int count, string prefix = "v", long timestamp = 1_700_000_000_000, int valueSize = 0)
    {
        var builder = new RecordBatchBuilder();
        for (var i = 0; i < count; i++)
        {
            var text = $"{prefix}-{i}";
            var value = valueSize > 0 ? Encoding.UTF8.GetBytes(text.PadRight(valueSize, '.')) : Encoding.UTF8.GetBytes(text);
            builder.Add(Encoding.UTF8.GetBytes($"k{i}"), value, timestamp + i);
        }
        return builder.Build();
    }

    public static List<Record> ReadAll(PartitionLog partition, long from = -1)
    {
        var records = new List<Record>();
        var offset = from < 0 ? partition.LogStartOffset : from;
        for (var guard = 0; guard < 1_000_000 && offset < partition.HighWatermark; guard++)
        {
            using var read = partition.Read(offset, 64 * 1024);
            if (read.IsEmpty) break;
            var data = read.Memory.ToArray();
            var p = 0;
            while (p < data.Length)
            {
                var total = RecordBatchHeader.PeekTotalSize(data.AsSpan(p));
                var batch = data.AsMemory(p, total);
                Assert.Equal(BatchValidation.Valid, RecordBatchHeader.Validate(batch.Span, out var h));
                foreach (var r in RecordBatchReader.ReadRecords(batch))
                    if (r.Offset >= offset) records.Add(r);
                offset = h.LastOffset + 1;
                p += total;
            }
        }
        return records;
    }

    public static string Text(ReadOnlyMemory<byte>? bytes) => bytes is { } b ? Encoding.UTF8.GetString(b.Span) : "<null>";
}
