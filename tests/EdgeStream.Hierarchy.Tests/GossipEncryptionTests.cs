using System.Security.Cryptography;
using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// <c>--gossip-key</c> with real agent processes, every one gossiping on its own 127.0.0.1 port with mDNS
/// off (AgentNode's defaults): nothing leaves the loopback.
/// </summary>
public sealed class GossipEncryptionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private static JsonElement Mesh(JsonElement status) => status.GetProperty("mesh");

    private static IEnumerable<string> AliveMembers(JsonElement status) =>
        Mesh(status).GetProperty("members").EnumerateArray()
            .Where(m => m.GetProperty("state").GetString() == "alive")
            .Select(m => m.GetProperty("nodeId").GetString()!);

    private static long Rejected(JsonElement status)
    {
        var e = Mesh(status).GetProperty("encryption");
        return e.GetProperty("datagramsRejected").GetInt64() + e.GetProperty("exchangesRejected").GetInt64();
    }

    [Fact]
    public async Task SameKey_FormsMembership_AnotherKeyOrNoKeyDoesNotJoinAndIsCounted()
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var nextKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var dir = new TempDirectory();
        await using var a = await AgentNode.StartAsync(dir.Combine("a"), "edge", "--node-id", "edge-a", "--gossip-key", key, "--log-level", "debug");
        // Mid-rotation: b already accepts the next key as a secondary; it still sends with the first.
        await using var b = await AgentNode.StartAsync(dir.Combine("b"), "edge", "--node-id", "edge-b", "--seeds", a.GossipAddress,
            "--gossip-key", key, "--gossip-key", nextKey, "--log-level", "debug");
        await using var wrong = await AgentNode.StartAsync(dir.Combine("wrong"), "edge", "--node-id", "edge-wrong", "--seeds", a.GossipAddress,
            "--gossip-key", otherKey);
        await using var clear = await AgentNode.StartAsync(dir.Combine("clear"), "edge", "--node-id", "edge-clear", "--seeds", a.GossipAddress);

        var (joined, status) = await Wait.UntilAsync(a.StatusAsync, s => AliveMembers(s).Contains("edge-b"), Deadline, Interval);
        Assert.True(joined, $"edge-b with the same key did not join edge-a: {status}");
        // Both outsiders retry their seed every 2 s; each attempt is rejected at edge-a.
        var (counted, last) = await Wait.UntilAsync(a.StatusAsync, s => Rejected(s) >= 2, Deadline, Interval);
        Assert.True(counted, $"edge-a counted no rejected gossip: {last}");

        var encryption = Mesh(last).GetProperty("encryption");
        Assert.True(encryption.GetProperty("enabled").GetBoolean());
        Assert.Equal(1, encryption.GetProperty("keys").GetInt32());
        Assert.Equal(["edge-a", "edge-b"], AliveMembers(last).Order());
        Assert.Equal(["edge-a", "edge-b"], AliveMembers(await b.StatusAsync()).Order());
        Assert.Equal(["edge-wrong"], AliveMembers(await wrong.StatusAsync()));
        var clearStatus = await clear.StatusAsync();
        Assert.Equal(["edge-clear"], AliveMembers(clearStatus));
        Assert.False(Mesh(clearStatus).GetProperty("encryption").GetProperty("enabled").GetBoolean());
        Assert.Contains("(encrypted, 2 keys)", b.Process.Stdout);
        Assert.Contains("failed authentication", a.Process.Stdout);

        // The keys are never in the agents' output, whatever the log level.
        foreach (var node in new[] { a, b, wrong })
        {
            foreach (var secret in new[] { key, nextKey, otherKey })
            {
                Assert.DoesNotContain(secret, node.Process.Stdout);
                Assert.DoesNotContain(secret, node.Process.Stderr);
            }
        }
    }

    [Fact]
    public async Task BadKey_RefusedAtStart_WithoutEchoingIt()
    {
        using var dir = new TempDirectory();
        var notAKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(20)); // 20 bytes: no AES key length

        var (code, stdout, stderr) = await AgentProcess.RunToExitAsync(dir.Path, ["run", "--data", dir.Combine("d"), "--gossip-key", notAKey]);

        Assert.NotEqual(0, code);
        Assert.Contains("gossipKeys", stdout + stderr);
        Assert.DoesNotContain(notAKey, stdout + stderr);
    }
}
