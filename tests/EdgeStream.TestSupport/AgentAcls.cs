using Xunit;

namespace EdgeStream.TestSupport;

/// <summary><c>edgestream acls</c> on a (stopped) node's data directory, as a user would run it.</summary>
public static class AgentAcls
{
    /// <summary><c>edgestream acls add ARGS --data DIR</c>; asserts success.</summary>
    public static void Add(string dataDirectory, params string[] args)
    {
        var (code, stdout, stderr) = ExternalTool.Run("dotnet", [AgentProcess.AgentDll, "acls", "add", .. args, "--data", dataDirectory], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"edgestream acls add: exit {code}\n{stdout}\n{stderr}");
    }
}
