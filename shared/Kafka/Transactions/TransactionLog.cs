using Microsoft.Extensions.Logging;

namespace EdgeStream.Kafka.Transactions;

/// <summary>Source-generated log messages of the transaction coordinator; event ids 2200-2299.</summary>
internal static partial class TransactionLog
{
    [LoggerMessage(2200, LogLevel.Information, "Transaction {TransactionalId} (producer {ProducerId} epoch {Epoch}) aborted: {Reason}")]
    public static partial void Aborted(ILogger logger, string transactionalId, long producerId, short epoch, string reason);

    [LoggerMessage(2201, LogLevel.Information, "Transaction {TransactionalId} (producer {ProducerId}) found {State} after a restart: completing it")]
    public static partial void Recovering(ILogger logger, string transactionalId, long producerId, string state);

    [LoggerMessage(2202, LogLevel.Warning, "Transaction {TransactionalId}: completing {State} failed, will retry: {Reason}")]
    public static partial void CompletionFailed(ILogger logger, string transactionalId, string state, string reason);
}
