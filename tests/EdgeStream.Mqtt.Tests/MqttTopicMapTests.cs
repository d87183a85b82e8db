using EdgeStream.Mqtt;

namespace EdgeStream.Mqtt.Tests;

public sealed class MqttTopicMapTests
{
    [Theory]
    [InlineData("a/b/c", "a/b/c", true)]
    [InlineData("a/b/c", "a/b", false)]
    [InlineData("a/+/c", "a/x/c", true)]
    [InlineData("a/+/c", "a/x/y/c", false)]
    [InlineData("a/+", "a/", true)]
    [InlineData("+", "a", true)]
    [InlineData("+", "a/b", false)]
    [InlineData("#", "a/b/c", true)]
    [InlineData("a/#", "a", true)]
    [InlineData("a/#", "a/b/c", true)]
    [InlineData("a/#", "ab", false)]
    [InlineData("factory/+/telemetry/#", "factory/a/telemetry/x", true)]
    [InlineData("factory/+/telemetry/#", "factory/a/telemetry", true)]
    [InlineData("factory/+/telemetry/#", "factory/a/status/x", false)]
    [InlineData("#", "$SYS/broker", false)]
    [InlineData("+/broker", "$SYS/broker", false)]
    [InlineData("$SYS/#", "$SYS/broker", true)]
    public void Matches_FollowsMqttWildcardRules(string filter, string topic, bool expected) =>
        Assert.Equal(expected, MqttTopicFilter.Matches(filter, topic));

    [Theory]
    [InlineData("#", "a/+/#", true)]
    [InlineData("a/#", "a", true)]
    [InlineData("a/+", "a/b", true)]
    [InlineData("a/+", "a/+", true)]
    [InlineData("a/+", "a/#", false)]
    [InlineData("a/b", "a/+", false)]
    [InlineData("a/+/c", "a/x/c", true)]
    [InlineData("a/+/c", "a/x", false)]
    public void Covers_EveryTopicOfTheFilterMatchesTheRule(string rule, string filter, bool expected) =>
        Assert.Equal(expected, MqttTopicFilter.Covers(rule, filter));

    [Theory]
    [InlineData("a/b", "a/+", true)]
    [InlineData("a/b", "c/+", false)]
    [InlineData("factory/#", "#", true)]
    [InlineData("a/+/c", "a/b/+", true)]
    [InlineData("a/b/c", "a/b", false)]
    [InlineData("a/#", "a", true)]
    [InlineData("+/+", "a/b/c", false)]
    public void Intersects_SomeTopicMatchesBoth(string a, string b, bool expected)
    {
        Assert.Equal(expected, MqttTopicFilter.Intersects(a, b));
        Assert.Equal(expected, MqttTopicFilter.Intersects(b, a));
    }

    [Fact]
    public void LogTopicsFor_EveryRuleTheFilterReaches_UpToTheFirstCoveringOne()
    {
        var map = new MqttTopicMap([MqttMapRule.Parse("plant/+/temp=temps"), MqttMapRule.Parse("plant/#=plant")]);
        Assert.Equal(["temps"], map.LogTopicsFor("plant/a/temp"));
        Assert.Equal(["temps", "plant"], map.LogTopicsFor("plant/#"));
        Assert.Equal(["plant"], map.LogTopicsFor("plant/a/pressure"));
        Assert.Equal(["temps", "plant", "mqtt"], map.LogTopicsFor("#"));
        Assert.Equal(["mqtt"], map.LogTopicsFor("office/+"));
    }

    [Theory]
    [InlineData("a/#/b")]
    [InlineData("a#")]
    [InlineData("a/b+")]
    [InlineData("")]
    public void Validate_RejectsMalformedFilters(string filter) => Assert.NotNull(MqttTopicFilter.Validate(filter));

    [Fact]
    public void Parse_SplitsAtLastEquals()
    {
        var rule = MqttMapRule.Parse("factory/+/telemetry/#=telemetry");
        Assert.Equal("factory/+/telemetry/#", rule.Filter);
        Assert.Equal("telemetry", rule.LogTopic);
        Assert.Equal("a=b/c", MqttMapRule.Parse("a=b/c=t").Filter);
    }

    [Theory]
    [InlineData("factory/#")]          // no '='
    [InlineData("=telemetry")]         // no filter
    [InlineData("factory/#=")]         // no topic
    [InlineData("a/#/b=telemetry")]    // bad filter
    [InlineData("factory/#=bad topic")] // bad log topic name
    [InlineData("factory/#=a/b")]      // '/' is not legal in a log topic
    public void Parse_InvalidRule_IsFormatException(string text) =>
        Assert.Throws<FormatException>(() => MqttMapRule.Parse(text));

    [Fact]
    public void Resolve_FirstMatchWins_ImplicitDefaultIsMqtt()
    {
        var map = new MqttTopicMap([MqttMapRule.Parse("factory/+/telemetry/#=telemetry"), MqttMapRule.Parse("factory/#=factory"), MqttMapRule.Parse("factory/a/telemetry/x=never")]);
        Assert.Equal("telemetry", map.Resolve("factory/a/telemetry/x"));
        Assert.Equal("factory", map.Resolve("factory/a/status"));
        Assert.Equal("mqtt", map.Resolve("other/topic"));
        Assert.Equal("mqtt", map.Resolve("$SYS/x"));
        Assert.Equal(["telemetry", "factory", "never"], map.MappedLogTopics);
        Assert.Equal("mqtt", new MqttTopicMap().Resolve("anything/at/all"));
        Assert.Empty(new MqttTopicMap().MappedLogTopics);
    }
}
