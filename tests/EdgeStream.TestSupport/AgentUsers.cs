using Xunit;

namespace EdgeStream.TestSupport;

/// <summary><c>edgestream users</c> on a (stopped) node's data directory, the password given on stdin as a user would.</summary>
public static class AgentUsers
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string dataDirectory, string? stdin, params string[] args) =>
        ExternalTool.Run("dotnet", [AgentProcess.AgentDll, "users", .. args, "--data", dataDirectory], stdin: stdin, timeout: TimeSpan.FromSeconds(60));

    /// <summary>Adds (or replaces) <paramref name="name"/> with <paramref name="password"/>; asserts success.</summary>
    public static void Add(string dataDirectory, string name, string password, params string[] extra)
    {
        var (code, stdout, stderr) = Run(dataDirectory, password + "\n", ["add", name, "--password-stdin", .. extra]);
        Assert.True(code == 0, $"edgestream users add {name}: exit {code}\n{stdout}\n{stderr}");
    }

    /// <summary>Everything the node wrote: its stdout and stderr and the files under <c>{data}/logs</c>.</summary>
    public static string AllLogs(AgentNode node)
    {
        var text = new System.Text.StringBuilder(node.Process.Stdout).Append(node.Process.Stderr);
        var logs = Path.Combine(node.DataDirectory, "logs");
        if (Directory.Exists(logs))
        {
            foreach (var file in Directory.EnumerateFiles(logs, "*", SearchOption.AllDirectories))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                text.Append(reader.ReadToEnd());
            }
        }
        return text.ToString();
    }
}
