using Microsoft.AspNetCore.Http;

namespace EdgeStream.Hosting.Http;

/// <summary>
/// The dashboard page (<c>Http/Dashboard/index.html</c>, an embedded resource): plain HTML and JavaScript
/// that polls <c>/v1/status</c>. Read once; no file on disk, no external resource, so it works offline.
/// </summary>
internal static class Dashboard
{
    private static readonly Lazy<byte[]> Page = new(static () =>
    {
        using var stream = typeof(Dashboard).Assembly.GetManifestResourceStream("EdgeStream.Dashboard.index.html")
            ?? throw new InvalidOperationException("the dashboard page is not embedded in EdgeStream.Hosting");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static Task ServeAsync(HttpContext context)
    {
        var page = Page.Value;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        // The page only talks to this node: no framing by other sites, no resources from elsewhere.
        context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        context.Response.ContentLength = page.Length;
        return context.Response.Body.WriteAsync(page, context.RequestAborted).AsTask();
    }
}
