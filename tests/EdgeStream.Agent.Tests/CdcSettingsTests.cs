using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Tests;

/// <summary>--cdc: repeated flag, ';'-separated environment variable, config file array; errors name the setting and hide passwords.</summary>
public sealed class CdcSettingsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private AgentOptions Resolve(Dictionary<string, IReadOnlyList<string>>? flags = null, Dictionary<string, string>? env = null) =>
        AgentConfiguration.Resolve(flags ?? [], env ?? [], _dir.Path);

    [Fact]
    public void Resolve_NoSources_NoCdc() => Assert.Empty(Resolve().Cdc);

    [Fact]
    public void Resolve_RepeatedFlag_TwoSources()
    {
        var o = Resolve(new() { ["cdc"] = ["a=postgres://u@h:5432/d?tables=s.t1,s.t2", "b=postgres://u@h2/d2?publication=pub"] });
        Assert.Equal(["a", "b"], o.Cdc.Select(c => c.Name));
        Assert.Equal(["s.t1", "s.t2"], o.Cdc[0].Tables);
        Assert.Equal("pub", o.Cdc[1].Publication);
    }

    [Fact]
    public void Resolve_Environment_SplitsOnSemicolonsNotOnTheTablesCommas()
    {
        var o = Resolve(env: new() { ["EDGESTREAM_CDC"] = "a=postgres://u@h/d?tables=s.t1,s.t2; b=postgres://u@h/d?tables=s.t3" });
        Assert.Equal(2, o.Cdc.Count);
        Assert.Equal(["s.t1", "s.t2"], o.Cdc[0].Tables);
    }

    [Fact]
    public void Resolve_ConfigFileArray_Sources()
    {
        var file = Path.Combine(_dir.Path, "c.json");
        File.WriteAllText(file, """{ "cdc": ["mes=postgres://cdc@db/factory?tables=public.orders&passwordFile=/run/secrets/pw"] }""");
        var o = Resolve(new() { ["config"] = [file] });
        Assert.Equal("/run/secrets/pw", Assert.Single(o.Cdc).PasswordFile);
    }

    [Fact]
    public void Resolve_DuplicateNames_ErrorNamesTheSetting()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["cdc"] = ["a=postgres://u@h/d?tables=s.t", "a=postgres://u@h/e?tables=s.t"] }));
        Assert.Contains("--cdc", ex.Message);
        Assert.Contains("two sources are named 'a'", ex.Message);
    }

    [Fact]
    public void Resolve_PasswordInUrl_RefusedWithoutEchoingIt()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["cdc"] = ["a=postgres://u:hunter2@h/d?tables=s.t"] }));
        Assert.Contains("passwordEnv", ex.Message);
        Assert.DoesNotContain("hunter2", ex.Message);
    }
}
