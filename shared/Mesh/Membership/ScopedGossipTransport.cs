using System.Net;
using System.Text;
using EdgeStream.Mesh.Gossip;

namespace EdgeStream.Mesh.Membership;

/// <summary>
/// One gossip port shared by several membership scopes (a gateway's <c>site</c> and <c>upstream</c>):
/// every message names its scope in the envelope (<see cref="GossipCodec.TryPeekScope"/>), so incoming
/// datagrams and push-pull exchanges are handed to the scope they name. <see cref="For"/> gives each
/// <see cref="SwimMembership"/> a transport of its own; the shared one starts with the first scope
/// started and is disposed with the last scope disposed (or with this object).
/// </summary>
public sealed class ScopedGossipTransport : IGossipReceiver, IAsyncDisposable
{
    private readonly IGossipTransport _inner;
    private readonly object _lock = new();
    private readonly List<Scope> _scopes = [];
    private volatile Scope[] _started = [];
    private bool _innerStarted;
    private bool _disposed;
    private long _unrouted;

    public ScopedGossipTransport(IGossipTransport inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>The shared transport's bound address.</summary>
    public IPEndPoint LocalEndPoint => _inner.LocalEndPoint;

    /// <summary>Messages dropped because no started scope matched theirs (or no scope could be read).</summary>
    public long Unrouted => Interlocked.Read(ref _unrouted);

    /// <summary>The transport of scope <paramref name="scope"/>; one per scope.</summary>
    public IGossipTransport For(string scope)
    {
        if (!GossipCodec.IsValidName(scope)) throw new MeshException($"scope '{scope}' is not 1-{GossipCodec.MaxNameLength} of A-Z a-z 0-9 . _ -");
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (var s in _scopes)
                if (s.Name == scope) throw new InvalidOperationException($"scope '{scope}' already has a transport");
            var view = new Scope(this, scope);
            _scopes.Add(view);
            return view;
        }
    }

    void IGossipReceiver.OnDatagram(IPEndPoint from, ReadOnlyMemory<byte> datagram)
    {
        if (Route(datagram) is { } receiver) receiver.OnDatagram(from, datagram);
    }

    byte[]? IGossipReceiver.OnExchange(IPEndPoint from, ReadOnlyMemory<byte> request) =>
        Route(request) is { } receiver ? receiver.OnExchange(from, request) : null;

    private IGossipReceiver? Route(ReadOnlyMemory<byte> message)
    {
        if (GossipCodec.TryPeekScope(message, out var name))
        {
            foreach (var s in _started)
                if (name.Span.SequenceEqual(s.NameBytes)) return s.Receiver;
        }
        Interlocked.Increment(ref _unrouted);
        return null;
    }

    private void Started(Scope scope)
    {
        bool startInner;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _started = [.. _started, scope];
            startInner = !_innerStarted;
            _innerStarted = true;
        }
        if (startInner) _inner.Start(this);
    }

    private async ValueTask ScopeDisposedAsync(Scope scope)
    {
        bool last;
        lock (_lock)
        {
            _started = Array.FindAll(_started, s => s != scope);
            _scopes.Remove(scope);
            last = _scopes.Count == 0 && !_disposed;
            if (last) _disposed = true;
        }
        if (last) await _inner.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _started = [];
        }
        await _inner.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Scope(ScopedGossipTransport mux, string name) : IGossipTransport
    {
        private int _state; // 0 new, 1 started, 2 disposed

        public string Name { get; } = name;

        public byte[] NameBytes { get; } = Encoding.ASCII.GetBytes(name);

        public IGossipReceiver? Receiver { get; private set; }

        public IPEndPoint LocalEndPoint => mux._inner.LocalEndPoint;

        public void Start(IGossipReceiver receiver)
        {
            ArgumentNullException.ThrowIfNull(receiver);
            if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) throw new InvalidOperationException($"transport of scope '{Name}' already started");
            Receiver = receiver;
            mux.Started(this);
        }

        public void SendDatagram(IPEndPoint to, ReadOnlySpan<byte> datagram)
        {
            if (Volatile.Read(ref _state) == 1) mux._inner.SendDatagram(to, datagram);
        }

        public Task<byte[]> ExchangeAsync(IPEndPoint to, ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default) =>
            mux._inner.ExchangeAsync(to, request, timeout, cancellationToken);

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _state, 2) == 2 ? ValueTask.CompletedTask : mux.ScopeDisposedAsync(this);
    }
}
