using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Agent.Tests;

/// <summary>--sink-tls-* and --sink-sasl*: what goes together, where the password may come from, messages that never show it.</summary>
public sealed class SinkSecuritySettingsTests : IDisposable
{
    private const string Password = "sink-s3cret-Pa55";
    private readonly TempDirectory _dir = new();
    // Unique per test instance: the process environment is shared by tests running side by side.
    private readonly string _variable = "EDGESTREAM_TEST_SINK_PW_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    public SinkSecuritySettingsTests() => Environment.SetEnvironmentVariable(_variable, Password);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        _dir.Dispose();
    }

    private AgentOptions Resolve(Dictionary<string, IReadOnlyList<string>> flags) =>
        AgentConfiguration.Resolve(new Dictionary<string, IReadOnlyList<string>>(flags) { ["role"] = ["cloud"] }, new Dictionary<string, string>(), _dir.Path);

    private Dictionary<string, IReadOnlyList<string>> Sink(params (string Key, string Value)[] settings)
    {
        var flags = new Dictionary<string, IReadOnlyList<string>> { ["sink"] = ["kafka://kafka-1:9093"] };
        foreach (var (key, value) in settings) flags[key] = [value];
        return flags;
    }

    private string File(string name, string text = "x")
    {
        var path = _dir.Combine(name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Resolve_NoSecuritySettings_ClearText()
    {
        var o = Resolve(Sink());

        Assert.Null(o.SinkTlsCa);
        Assert.Null(o.SinkSasl);
    }

    [Fact]
    public void Resolve_TlsAndScram_Kept()
    {
        var ca = File("ca.crt");
        var o = Resolve(Sink(("sinkTlsCa", ca), ("sinkSasl", "scram-sha-512"), ("sinkSaslUsername", "edge"), ("sinkSaslPasswordEnv", _variable)));

        Assert.Equal(ca, o.SinkTlsCa);
        Assert.Equal("SCRAM-SHA-512", o.SinkSasl);
        Assert.Equal("edge", o.SinkSaslUsername);
        Assert.Equal(_variable, o.SinkSaslPasswordEnv);
        Assert.Equal("system", Resolve(Sink(("sinkTlsCa", "system"))).SinkTlsCa);
    }

    [Theory]
    [InlineData("sinkSasl", "scram-sha-256", "--sink-sasl-username")] // no user
    [InlineData("sinkSaslUsername", "edge", "--sink-sasl")] // a user without a mechanism
    [InlineData("sinkTlsCert", "cert.pem", "--sink-tls-key")] // a certificate without its key
    [InlineData("sinkTlsCa", "missing-ca.crt", "no such file")]
    public void Resolve_Incomplete_NamesWhatIsMissing(string key, string value, string expected)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Sink((key, value))));

        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Resolve_SaslWithoutPassword_Refused()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(Sink(("sinkSasl", "plain"), ("sinkSaslUsername", "edge"))));

        Assert.Contains("--sink-sasl-password-env", ex.Message);
    }

    [Fact]
    public void Resolve_PasswordVariableNotSet_NamesTheVariable()
    {
        var ex = Assert.Throws<ConfigurationException>(() =>
            Resolve(Sink(("sinkSasl", "plain"), ("sinkSaslUsername", "edge"), ("sinkSaslPasswordEnv", "EDGESTREAM_TEST_SINK_PW_UNSET"))));

        Assert.Contains("EDGESTREAM_TEST_SINK_PW_UNSET", ex.Message);
    }

    [Fact]
    public void Resolve_SecurityWithoutSink_Refused()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Resolve(new() { ["sinkSasl"] = ["plain"] }));

        Assert.Contains("--sink", ex.Message);
    }

    [Fact]
    public void Resolve_Options_NeverHoldThePassword()
    {
        var o = Resolve(Sink(("sinkSasl", "scram-sha-256"), ("sinkSaslUsername", "edge"), ("sinkSaslPasswordFile", File("pw", Password + "\n"))));

        foreach (var property in typeof(AgentOptions).GetProperties())
            Assert.NotEqual(Password, property.GetValue(o) as string);
    }
}
