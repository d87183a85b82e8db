using EdgeStream.Files.Receiving;

namespace EdgeStream.Files.Tests;

public sealed class SafePathTests
{
    [Theory]
    [InlineData("a.txt")]
    [InlineData("dir/sub/file.bin")]
    [InlineData("ünïcödé/ファイル.txt")]
    [InlineData("...hidden/..x")]
    public void Split_PlainRelativePaths_Accepted(string path) => Assert.NotNull(SafePath.Split(path, out _));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("../escape", "'..'")]
    [InlineData("a/../../escape", "'..'")]
    [InlineData("a/./b", "'.'")]
    [InlineData("a//b", "empty path component")]
    [InlineData("a/", "empty path component")]
    [InlineData("a\\..\\b", "'\\'")]
    [InlineData("a\0b", "NUL")]
    [InlineData("a\nb", "control")]
    public void Split_Hostile_Refused(string path, string reason)
    {
        Assert.Null(SafePath.Split(path, out var why));
        Assert.Contains(reason, why);
    }

    [Fact]
    public void Split_TooLong_Refused()
    {
        Assert.Null(SafePath.Split(new string('x', 256), out var why));
        Assert.Contains("255", why);
        Assert.Null(SafePath.Split(string.Join('/', Enumerable.Repeat(new string('y', 200), 25)), out why));
        Assert.Contains("4096", why);
    }

    [Theory]
    [InlineData("edge-1", true)]
    [InlineData("gw.hall_3", true)]
    [InlineData(".edgestream-files", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    public void IsSafeOrigin(string origin, bool safe) => Assert.Equal(safe, SafePath.IsSafeOrigin(origin));

    [Fact]
    public void PrepareDirectory_PlantedSymlink_Refused()
    {
        using var root = new EdgeStream.TestSupport.TempDirectory();
        using var outside = new EdgeStream.TestSupport.TempDirectory();
        Directory.CreateDirectory(root.Combine("edge-1"));
        File.CreateSymbolicLink(root.Combine("edge-1", "link"), outside.Path);
        var ex = Assert.Throws<FilesException>(() => SafePath.PrepareDirectory(root.Path, ["edge-1", "link", "f.txt"]));
        Assert.Contains("symbolic link", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside.Path));
    }
}
