using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Tests;

/// <summary>--http-token: none by default (read-only), its sources, errors that never show it; the listener's loopback default.</summary>
public sealed class HttpTokenSettingsTests : IDisposable
{
    private const string Token = "s3cret-token_0123456789";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private AgentOptions Resolve(Dictionary<string, IReadOnlyList<string>>? flags = null, Dictionary<string, string>? env = null) =>
        AgentConfiguration.Resolve(flags ?? [], env ?? [], _dir.Path);

    [Fact]
    public void Resolve_NoSources_NoTokenAndHttpOnLoopback()
    {
        var o = Resolve();

        Assert.Null(o.HttpToken);
        Assert.Equal(new HostPort("127.0.0.1", 9094), o.Http);
    }

    [Fact]
    public void Resolve_TokenFromFlagOrEnvironment()
    {
        Assert.Equal(Token, Resolve(new() { ["httpToken"] = [Token] }).HttpToken);
        Assert.Equal(Token, Resolve(env: new() { ["EDGESTREAM_HTTP_TOKEN"] = Token }).HttpToken);
    }

    [Theory]
    [InlineData("short-secret")]
    [InlineData("long enough but has spaces")]
    public void Resolve_BadToken_NamesTheSettingButNotTheToken(string bad)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["httpToken"] = [bad] }));

        Assert.Contains("--http-token", ex.Message);
        Assert.DoesNotContain(bad, ex.Message);
    }
}
