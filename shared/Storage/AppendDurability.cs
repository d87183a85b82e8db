namespace EdgeStream.Storage;

/// <summary>Where a written append stands under the fsync policy (<see cref="PartitionLog.Durability"/>).</summary>
public enum AppendDurability
{
    /// <summary>Written, not yet durable: not to be acknowledged yet.</summary>
    Pending,
    /// <summary>Durable under the fsync policy: may be acknowledged.</summary>
    Durable,
    /// <summary>The fsync that covered it failed: never to be acknowledged (a later fsync proves nothing for it).</summary>
    Failed,
}
