using System.Net;
using System.Net.Http.Headers;
using EdgeStream.TestSupport;

namespace EdgeStream.Observability.Tests;

/// <summary>
/// The HTTP API is read-only without a token. No endpoint changes state yet, so the check is on the
/// method: a POST to /v1/status stands for any future one (with the token it reaches routing, which
/// answers 405).
/// </summary>
public sealed class HttpTokenTests
{
    private const string Token = "test-token_0123456789abcdef";

    private static async Task<HttpResponseMessage> SendAsync(AgentNode node, HttpMethod method, string path, string? token = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(method, $"http://127.0.0.1:{node.HttpPort}{path}");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (method != HttpMethod.Get && method != HttpMethod.Head) request.Content = new StringContent("{}");
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task WithToken_ReadsOpen_StateChangingMethodsNeedTheBearerToken()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("n"), "edge", "--node-id", "edge-t", "--http-token", Token);

        using (var get = await SendAsync(node, HttpMethod.Get, "/v1/status")) Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using (var dashboard = await SendAsync(node, HttpMethod.Get, "/")) Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);

        using (var none = await SendAsync(node, HttpMethod.Post, "/v1/status"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("Bearer", Assert.Single(none.Headers.WwwAuthenticate).Scheme);
        }
        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
        {
            using var wrong = await SendAsync(node, method, "/v1/topics", "test-token_0123456789abcdeX");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Contains("invalid_token", wrong.Headers.WwwAuthenticate.ToString());
        }

        using (var right = await SendAsync(node, HttpMethod.Post, "/v1/status", Token))
            Assert.Equal(HttpStatusCode.MethodNotAllowed, right.StatusCode); // past the check; nothing handles POST there yet

        Assert.True(await Wait.UntilAsync(() => node.Process.Stdout.Contains("refused: missing or wrong token", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            node.Process.Stdout);
        Assert.DoesNotContain(Token, node.Process.Stdout + node.Process.Stderr);
    }

    [Fact]
    public async Task WithoutToken_ReadOnly_StateChangingMethodsForbidden()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("n"), "edge", "--node-id", "edge-ro");

        using (var get = await SendAsync(node, HttpMethod.Get, "/healthz")) Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using var post = await SendAsync(node, HttpMethod.Post, "/v1/status", Token);
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Contains("read-only", await post.Content.ReadAsStringAsync());
    }
}
