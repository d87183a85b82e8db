using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Tests;

/// <summary>The README's CLI reference must not drift from the setting table.</summary>
public sealed class ReadmeTests
{
    private static string ReadReadme() => RepositoryFiles.ReadAllText("README.md");

    [Fact]
    public void Readme_EverySetting_IsDocumentedWithFlagVariableAndKey()
    {
        var readme = ReadReadme();

        foreach (var setting in AgentSettings.All)
        {
            Assert.Contains($"`{setting.Flag}", readme);
            Assert.Contains($"`{setting.EnvironmentVariable}`", readme);
            if (setting.JsonKey is not null) Assert.Contains($"`{setting.JsonKey}`", readme);
        }
    }

    [Fact]
    public void Readme_Start_IsTheTwoSetUpCommands()
    {
        var lines = ReadReadme().Split('\n').Take(4).Select(l => l.TrimEnd('\r')).ToArray();

        Assert.Equal(["```sh", "./build.sh run", "./build.sh test", "```"], lines);
    }
}
