using System.Diagnostics;

namespace EdgeStream.Agent.Tests;

/// <summary>
/// packaging/linux/install.sh, run for real against a temporary root (<c>--root</c>): the layout it installs, an
/// upgrade that keeps configuration and data, and uninstall with and without <c>--purge</c>.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InstallScriptTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _package;
    private readonly string _root;

    public InstallScriptTests()
    {
        // An unpacked release archive: the shipped files next to a stand-in binary.
        _package = _dir.Combine("edgestream-0.0.0-linux-x64");
        _root = _dir.Combine("root");
        Directory.CreateDirectory(_package);
        foreach (var f in new[] { "install.sh", "edgestream.service", "config.json" })
            File.Copy(PackagingFiles.Path(f), Path.Combine(_package, f));
        WriteBinary("first");
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Install_LaysOutBinaryUnitConfigAndDataDirectory()
    {
        var (code, output) = await InstallAsync();

        Assert.True(code == 0, output);
        Assert.Equal("#!/bin/sh\necho first\n", File.ReadAllText(InRoot("usr/local/bin/edgestream")));
        Assert.True(File.GetUnixFileMode(InRoot("usr/local/bin/edgestream")).HasFlag(UnixFileMode.UserExecute));
        Assert.Equal(File.ReadAllText(PackagingFiles.Path("config.json")), File.ReadAllText(InRoot("etc/edgestream/config.json")));
        Assert.Contains("ExecStart=/usr/local/bin/edgestream run --config /etc/edgestream/config.json", File.ReadAllText(InRoot("etc/systemd/system/edgestream.service")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(InRoot("var/lib/edgestream")));
        Assert.Contains("installed", output);
    }

    [Fact]
    public async Task Install_Bindir_PointsTheUnitAtIt()
    {
        var (code, output) = await InstallAsync("--bindir", "/usr/bin");

        Assert.True(code == 0, output);
        Assert.True(File.Exists(InRoot("usr/bin/edgestream")));
        Assert.Contains("ExecStart=/usr/bin/edgestream run ", File.ReadAllText(InRoot("etc/systemd/system/edgestream.service")));
    }

    [Fact]
    public async Task Reinstall_UpgradesBinaryAndUnit_KeepsConfigAndData()
    {
        Assert.Equal(0, (await InstallAsync()).ExitCode);
        File.WriteAllText(InRoot("etc/edgestream/config.json"), "{ \"role\": \"gateway\" }");
        File.WriteAllText(InRoot("var/lib/edgestream/meta.db"), "node data");
        File.WriteAllText(InRoot("etc/systemd/system/edgestream.service"), "stale unit");
        WriteBinary("second");

        var (code, output) = await InstallAsync();

        Assert.True(code == 0, output);
        Assert.Contains("upgraded", output);
        Assert.Equal("#!/bin/sh\necho second\n", File.ReadAllText(InRoot("usr/local/bin/edgestream")));
        Assert.Contains("Type=notify", File.ReadAllText(InRoot("etc/systemd/system/edgestream.service")));
        Assert.Equal("{ \"role\": \"gateway\" }", File.ReadAllText(InRoot("etc/edgestream/config.json")));
        Assert.Equal(File.ReadAllText(PackagingFiles.Path("config.json")), File.ReadAllText(InRoot("etc/edgestream/config.json.default")));
        Assert.Equal("node data", File.ReadAllText(InRoot("var/lib/edgestream/meta.db")));
    }

    [Fact]
    public async Task Uninstall_RemovesBinaryAndUnit_KeepsConfigAndData()
    {
        Assert.Equal(0, (await InstallAsync()).ExitCode);
        File.WriteAllText(InRoot("var/lib/edgestream/meta.db"), "node data");

        var (code, output) = await InstallAsync("--uninstall");

        Assert.True(code == 0, output);
        Assert.False(File.Exists(InRoot("usr/local/bin/edgestream")));
        Assert.False(File.Exists(InRoot("etc/systemd/system/edgestream.service")));
        Assert.True(File.Exists(InRoot("etc/edgestream/config.json")));
        Assert.Equal("node data", File.ReadAllText(InRoot("var/lib/edgestream/meta.db")));
    }

    [Fact]
    public async Task UninstallPurge_RemovesConfigAndDataToo()
    {
        Assert.Equal(0, (await InstallAsync()).ExitCode);
        File.WriteAllText(InRoot("var/lib/edgestream/meta.db"), "node data");

        var (code, output) = await InstallAsync("--uninstall", "--purge");

        Assert.True(code == 0, output);
        Assert.False(Directory.Exists(InRoot("etc/edgestream")));
        Assert.False(Directory.Exists(InRoot("var/lib/edgestream")));
        Assert.False(File.Exists(InRoot("usr/local/bin/edgestream")));
    }

    [Theory]
    [InlineData("--purge")]
    [InlineData("--frobnicate")]
    public async Task BadOptions_ExitTwo(string option)
    {
        var (code, _) = await InstallAsync(option);

        Assert.Equal(2, code);
        Assert.False(Directory.Exists(_root));
    }

    private string InRoot(string relative) => Path.Combine(_root, relative);

    private void WriteBinary(string marker) => File.WriteAllText(Path.Combine(_package, "edgestream"), $"#!/bin/sh\necho {marker}\n");

    private async Task<(int ExitCode, string Output)> InstallAsync(params string[] options)
    {
        var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[Path.Combine(_package, "install.sh"), "--root", _root, .. options]) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
