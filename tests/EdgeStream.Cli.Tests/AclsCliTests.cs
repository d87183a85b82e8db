using EdgeStream.TestSupport;

namespace EdgeStream.Cli.Tests;

/// <summary><c>edgestream acls add|list|remove</c> on a stopped node's data directory.</summary>
public sealed class AclsCliTests
{
    private static Task<CliResult> Run(string data, params string[] args) => CliProcess.EdgestreamAsync([.. args, "--data", data], null);

    [Fact]
    public async Task AddListRemove_StoppedNode_KeepsKafkasModel()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");

        var add = await Run(data, "acls", "add", "--principal", "User:alice", "--operation", "read", "describe", "--topic", "orders");
        Assert.True(add.ExitCode == 0, add.ToString());
        var prefixed = await Run(data, "acls", "add", "--principal", "User:*", "--operation", "idempotent-write", "--cluster");
        Assert.True(prefixed.ExitCode == 0, prefixed.ToString());
        var deny = await Run(data, "acls", "add", "--principal", "User:bob", "--operation", "Write", "--topic", "plant.", "--prefixed", "--deny", "--host", "10.0.0.7");
        Assert.True(deny.ExitCode == 0, deny.ToString());
        // Adding the same binding again keeps one.
        Assert.Equal(0, (await Run(data, "acls", "add", "--principal", "User:alice", "--operation", "read", "--topic", "orders")).ExitCode);

        var list = await Run(data, "acls", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(
        [
            "allow User:alice from * read on topic literal 'orders'",
            "allow User:alice from * describe on topic literal 'orders'",
            "deny User:bob from 10.0.0.7 write on topic prefixed 'plant.'",
            "allow User:* from * idempotent-write on cluster literal 'kafka-cluster'",
        ], list.Lines);

        var remove = await Run(data, "acls", "remove", "--principal", "User:alice", "--operation", "read", "describe", "--topic", "orders");
        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.Equal(1, (await Run(data, "acls", "remove", "--principal", "User:alice", "--operation", "read", "--topic", "orders")).ExitCode);
        Assert.Equal(2, (await Run(data, "acls", "list")).Lines.Length);

        // Usage errors: no resource, two resources, an unknown operation, a principal that is not User:.
        Assert.Equal(2, (await Run(data, "acls", "add", "--principal", "User:alice", "--operation", "read")).ExitCode);
        Assert.Equal(2, (await Run(data, "acls", "add", "--principal", "User:alice", "--operation", "read", "--topic", "t", "--group", "g")).ExitCode);
        Assert.Equal(2, (await Run(data, "acls", "add", "--principal", "User:alice", "--operation", "fly", "--topic", "t")).ExitCode);
        Assert.Equal(2, (await Run(data, "acls", "add", "--principal", "alice", "--operation", "read", "--topic", "t")).ExitCode);
    }
}
