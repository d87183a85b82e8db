namespace EdgeStream.Cdc.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Parse_FullSource_AllOptions()
    {
        var o = CdcSourceOptions.Parse("mes=postgres://cdc@db.local:6543/factory?tables=public.orders,mes.lots&topicPrefix=mes.&slot=s1&snapshot=when-needed&maxSlotLag=2GiB&chunkRows=100&heartbeat=5s&passwordEnv=MES_PW");
        Assert.Equal("mes", o.Name);
        Assert.Equal("cdc", o.User);
        Assert.Equal("db.local", o.Host);
        Assert.Equal(6543, o.Port);
        Assert.Equal("factory", o.Database);
        Assert.Equal(["public.orders", "mes.lots"], o.Tables);
        Assert.Equal("mes.", o.TopicPrefix);
        Assert.Equal("s1", o.Slot);
        Assert.Equal(SnapshotMode.WhenNeeded, o.Snapshot);
        Assert.Equal(2L << 30, o.MaxSlotLag);
        Assert.Equal(100, o.ChunkRows);
        Assert.Equal(TimeSpan.FromSeconds(5), o.Heartbeat);
        Assert.Equal("MES_PW", o.PasswordEnv);
        Assert.Equal("edgestream_mes", o.Publication);
    }

    [Fact]
    public void Parse_Defaults_PrefixSlotSnapshotLag()
    {
        var o = CdcSourceOptions.Parse("a-b=postgres://u@h/d?tables=s.t");
        Assert.Equal("cdc.a-b.", o.TopicPrefix);
        Assert.Equal("edgestream_a_b", o.Slot);
        Assert.Equal(5432, o.Port);
        Assert.Equal(SnapshotMode.Initial, o.Snapshot);
        Assert.Equal(1L << 30, o.MaxSlotLag);
    }

    [Theory]
    [InlineData("x=postgres://u:pw@h/d?tables=s.t", "passwordEnv")]
    [InlineData("x=postgres://u@h/d", "tables=")]
    [InlineData("x=postgres://u@h/d?tables=orders", "schema.table")]
    [InlineData("x=postgres://u@h/d?tables=s.t&snapshot=always", "initial, never or when-needed")]
    [InlineData("x=mysql://u@h/d?tables=s.t", "postgres://")]
    [InlineData("x=postgres://u@h/d?tables=s.t&color=red", "unknown option 'color'")]
    public void Parse_Bad_MessageNamesTheFix(string text, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => CdcSourceOptions.Parse(text));
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain("pw@", ex.Message);
    }
}
