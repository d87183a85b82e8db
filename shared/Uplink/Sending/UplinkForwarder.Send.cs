using EdgeStream.Uplink.Grpc;
using Google.Protobuf;
using Grpc.Core;

namespace EdgeStream.Uplink.Sending;

// Sending: the window, the rate cap, the wait for data, and which frame goes next (the highest-priority
// ready partition's read-ahead, or a fresh read of its log).
public sealed partial class UplinkForwarder
{
    private async Task SendLoopAsync(AsyncDuplexStreamingCall<UplinkRequest, UplinkReply> call, ParentConnection connection, CancellationToken ct)
    {
        var waits = new List<Task>();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var signal = Volatile.Read(ref _wake).Task;
            var now = Now();
            bool probe;
            int inFlight;
            lock (_lock)
            {
                probe = _selector.ShouldProbePreferred(now);
                inFlight = connection.InFlight.Count;
            }
            if (probe)
            {
                await DrainAsync(connection, ct).ConfigureAwait(false);
                var preferred = _options.Parents[0].ToString();
                UplinkSenderLog.ProbingPreferred(_logger, preferred, connection.Parent, (long)(now - connection.StartedAt));
                return;
            }
            if (inFlight >= _options.Window)
            {
                await WaitAsync(signal, TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                continue;
            }

            var next = NextFrame(now);
            if (next is not { } item)
            {
                await WaitForDataAsync(signal, waits, now, ct).ConfigureAwait(false);
                continue;
            }
            var (p, frame, generation) = item;
            if (_bucket is not null)
            {
                TimeSpan delay;
                lock (_lock) delay = _bucket.Take(frame.Payload.Length, now);
                if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
            }
            ulong id;
            lock (_lock)
            {
                // Refused (rewound) meanwhile: this frame will be read again from the cursor.
                if (generation != p.Generation || p.Removed) continue;
                id = ++_nextFrameId;
                connection.InFlight.Enqueue(new InFlightFrame(id, p, generation, frame.LocalEnd, frame.Records, Now()));
            }
            await call.RequestStream.WriteAsync(new UplinkRequest
            {
                FrameId = id,
                Payload = UnsafeByteOperations.UnsafeWrap(frame.Payload),
                RawLength = (uint)frame.RawLength,
            }, ct).ConfigureAwait(false);
            _status.Sent(frame.Records, frame.Payload.Length, frame.RawLength);
        }
    }

    private async Task DrainAsync(ParentConnection connection, CancellationToken ct)
    {
        var deadline = Now() + 5;
        while (Now() < deadline)
        {
            var signal = Volatile.Read(ref _wake).Task;
            lock (_lock)
            {
                if (connection.InFlight.Count == 0) return;
            }
            await WaitAsync(signal, TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
        }
    }

    private static async Task WaitAsync(Task signal, TimeSpan timeout, CancellationToken ct)
    {
        try { await signal.WaitAsync(timeout, ct).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }

    /// <summary>Nothing ready: wait for new data in any caught-up partition, an ack, a retry time, or the next topic poll.</summary>
    private async Task WaitForDataAsync(Task signal, List<Task> waits, double now, CancellationToken ct)
    {
        waits.Clear();
        waits.Add(signal);
        var timeout = 1.0;
        lock (_lock)
        {
            var partitions = _partitions.Items;
            for (var i = 0; i < partitions.Count; i++)
            {
                var p = partitions[i];
                if (p.Removed) continue;
                if (p.RetryAt > now) timeout = Math.Min(timeout, p.RetryAt - now);
                else if (p.Pending.Count == 0) waits.Add(p.Log.WhenDurableAbove(p.SendPosition));
            }
        }
        try
        {
            await Task.WhenAny(waits).WaitAsync(TimeSpan.FromSeconds(Math.Max(0.01, timeout)), ct).ConfigureAwait(false);
        }
        catch (TimeoutException) { }
    }

    /// <summary>The next frame to send: from a partition's read-ahead, or read now from the log.</summary>
    private (PartitionState, PendingFrame, int)? NextFrame(double now)
    {
        for (var attempt = 0; attempt < 16; attempt++)
        {
            PartitionState? p;
            long from;
            int generation, target;
            lock (_lock)
            {
                p = _scheduler.Pick(_partitions.Items, _priorityOf, _isReady);
                if (p is null) return null;
                if (_readAhead.TryTake(p, out var ready)) return (p, ready, p.Generation);
                if (!p.CheckRange(_connection, _status, _logger)) continue;
                from = p.SendPosition;
                generation = p.Generation;
                target = _frameSize.Target;
            }
            // Read and encode outside the lock: acks keep flowing meanwhile.
            var built = _reader.Read(p, from, target, out var next);
            lock (_lock)
            {
                if (generation != p.Generation || from != p.SendPosition || p.Removed) continue; // rewound meanwhile
                if (built is null)
                {
                    p.RetryAt = now + 1;
                    continue;
                }
                p.SendPosition = next;
                if (built.Count == 0)
                {
                    // Only control batches: nothing to send; move the cursor too when nothing is in flight.
                    if (p.InFlightFrames(_connection) == 0 && next > p.Acked) { p.Acked = next; p.Dirty = true; }
                    continue;
                }
                var first = built[0];
                for (var i = 1; i < built.Count; i++)
                {
                    if (!_readAhead.TryHold(p, built[i]))
                    {
                        // Over the read-ahead budget: forget the rest, it is read again when its turn comes.
                        p.SendPosition = built[i].LocalStart;
                        break;
                    }
                }
                return (p, first, generation);
            }
        }
        return null;
    }
}
