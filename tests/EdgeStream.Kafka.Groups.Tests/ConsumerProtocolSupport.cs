using Confluent.Kafka;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>
/// An agent whose consumer-protocol groups (KIP-848) run on short clocks: a 3 s session timeout and
/// 300 ms heartbeats, so a vanished member is replaced within a test's budget.
/// </summary>
public sealed class ConsumerProtocolAgent() : SharedAgent(["--partitions", "6",
    "--kafka-group-consumer-session-timeout", "3s", "--kafka-group-consumer-heartbeat-interval", "300ms"]);

[CollectionDefinition(Name)]
public sealed class ConsumerProtocolAgentCollection : ICollectionFixture<ConsumerProtocolAgent>
{
    public const string Name = "consumer protocol agent";
}

public static class ConsumerProtocolClients
{
    /// <summary>A Confluent consumer on the new protocol: session and heartbeat clocks are the broker's, the assignor is asked for by name.</summary>
    public static ConsumerConfig Config(string bootstrap, string group, string? assignor = null)
    {
        var config = Clients.GroupConfig(bootstrap, group);
        config.SessionTimeoutMs = null;
        config.HeartbeatIntervalMs = null;
        config.GroupProtocol = GroupProtocol.Consumer;
        config.GroupRemoteAssignor = assignor;
        return config;
    }
}

/// <summary>
/// A consumer-protocol member speaking ConsumerGroupHeartbeat itself: it takes the partitions it is
/// given, acknowledges revocations at once, and consumes nothing. <see cref="Kill"/> makes it vanish
/// as a killed process does: the connection drops, no leave is sent, and only the session timeout
/// can free its partitions.
/// </summary>
public sealed class WireMember : IAsyncDisposable
{
    private readonly RawConnection _connection;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile int _partitions;

    private WireMember(RawConnection connection, string group, string topic)
    {
        _connection = connection;
        _loop = Task.Run(async () =>
        {
            var memberId = Guid.NewGuid().ToString("N");
            var epoch = 0;
            List<ConsumerGroupHeartbeatRequest.TopicPartitionsData> owned = [];
            while (!_stop.IsCancellationRequested)
            {
                var response = await connection.SendAsync<ConsumerGroupHeartbeatResponse>(new ConsumerGroupHeartbeatRequest
                {
                    GroupId = group,
                    MemberId = memberId,
                    MemberEpoch = epoch,
                    RebalanceTimeoutMs = 10000,
                    SubscribedTopicNames = epoch == 0 ? [topic] : null,
                    TopicPartitions = owned,
                }, 1);
                if (response.ErrorCode != 0) throw new InvalidOperationException($"heartbeat error {response.ErrorCode}: {response.ErrorMessage}");
                epoch = response.MemberEpoch;
                if (response.Assignment is { } assignment)
                {
                    owned = [.. assignment.TopicPartitions.Select(t => new ConsumerGroupHeartbeatRequest.TopicPartitionsData { TopicId = t.TopicId, Partitions = [.. t.Partitions] })];
                    _partitions = owned.Sum(t => t.Partitions.Count);
                }
                try { await Task.Delay(response.HeartbeatIntervalMs, _stop.Token); }
                catch (OperationCanceledException) { }
            }
        });
    }

    public static async Task<WireMember> JoinAsync(AgentNode node, string group, string topic) => new(await RawConnection.OpenAsync(node), group, topic);

    public int Partitions => _partitions;

    /// <summary>Stops heartbeating and drops the connection without leaving.</summary>
    public async Task Kill()
    {
        _stop.Cancel();
        try { await _loop; }
        catch (Exception ex) when (ex is not OutOfMemoryException) { } // the connection goes anyway
        _connection.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await Kill();
    }
}
