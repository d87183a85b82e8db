using System.Text;
using EdgeStream.TestSupport;

namespace EdgeStream.Cli.Tests;

/// <summary><c>edgestream users add|list|delete</c> on a data directory: credentials only, never a password, in the store and the output.</summary>
public sealed class UsersCliTests
{
    private const string Password = "cli-Secret-9876";

    private static Task<CliResult> Run(string data, string? stdin, params string[] args) =>
        CliProcess.EdgestreamAsync([.. args, "--data", data], stdin is null ? null : Encoding.UTF8.GetBytes(stdin));

    [Fact]
    public async Task AddListDelete_StoppedNode_CredentialsOnly()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");

        var add = await Run(data, Password + "\n", "users", "add", "alice", "--password-stdin");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("SCRAM-SHA-512, SCRAM-SHA-256", add.Stdout);
        File.WriteAllText(dir.Combine("pw"), Password + "\n");
        var fromFile = await Run(data, null, "users", "add", "bob", "--password-file", dir.Combine("pw"), "--mechanism", "scram-sha-256", "--iterations", "8192");
        Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
        var onCommandLine = await Run(data, null, "users", "add", "carol", "--password", Password);
        Assert.True(onCommandLine.ExitCode == 0, onCommandLine.ToString());
        Assert.Contains("warning", onCommandLine.Stderr);

        var list = await Run(data, null, "users", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(["alice\tSCRAM-SHA-256,SCRAM-SHA-512", "bob\tSCRAM-SHA-256", "carol\tSCRAM-SHA-256,SCRAM-SHA-512"], list.Lines);

        // The store holds salted keys: the password is nowhere in meta.db.
        Assert.DoesNotContain(Password, Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(data, "meta.db"))), StringComparison.Ordinal);
        foreach (var output in new[] { add, fromFile, onCommandLine, list })
            Assert.DoesNotContain(Password, output.Stdout + output.Stderr, StringComparison.Ordinal);

        var deleteOne = await Run(data, null, "users", "delete", "alice", "--mechanism", "scram-sha-512");
        Assert.True(deleteOne.ExitCode == 0, deleteOne.ToString());
        var deleteAll = await Run(data, null, "users", "delete", "bob");
        Assert.True(deleteAll.ExitCode == 0, deleteAll.ToString());
        Assert.Equal(1, (await Run(data, null, "users", "delete", "bob")).ExitCode);
        Assert.Equal(["alice\tSCRAM-SHA-256", "carol\tSCRAM-SHA-256,SCRAM-SHA-512"], (await Run(data, null, "users", "list")).Lines);

        // Usage errors: a bad name, no password source, iterations out of range.
        Assert.Equal(2, (await Run(data, Password + "\n", "users", "add", "bad name", "--password-stdin")).ExitCode);
        Assert.Equal(2, (await Run(data, null, "users", "add", "dave")).ExitCode);
        Assert.Equal(2, (await Run(data, Password + "\n", "users", "add", "dave", "--password-stdin", "--iterations", "1000")).ExitCode);
    }

    [Fact]
    public async Task Add_NodeRunning_RefusedWithTheWayToDoItLive()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        await using var node = await AgentNode.StartAsync(data, "edge");
        var add = await Run(data, Password + "\n", "users", "add", "alice", "--password-stdin");
        Assert.Equal(1, add.ExitCode);
        Assert.Contains("in use", add.Stderr);
        Assert.Contains("--super-users", add.Stderr);
    }
}
