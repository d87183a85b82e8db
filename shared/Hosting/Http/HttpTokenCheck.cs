using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Http;

/// <summary>
/// The HTTP listener is read-only without a token: GET and HEAD pass; any other method (whatever would
/// change state, today's endpoints and any added later) needs <c>Authorization: Bearer {--http-token}</c>,
/// else 401 with <c>WWW-Authenticate: Bearer</c>; a node without <c>--http-token</c> refuses them all (403).
/// Only requests on the HTTP listener's port are checked: the uplink (gRPC, POST) on its own listener
/// has mutual TLS instead.
/// </summary>
public sealed class HttpTokenCheck
{
    private const string Challenge = "Bearer realm=\"edgestream\"";

    private readonly int _httpPort;
    // Hashes are compared, not the tokens: equal lengths, so the comparison's time says nothing about the token either.
    private readonly byte[]? _tokenHash;
    private readonly ILogger _logger;
    private readonly LogThrottle _refusalLog = new(TimeSpan.FromSeconds(1));

    public HttpTokenCheck(int httpPort, string? token, ILogger<HttpTokenCheck> logger)
    {
        _httpPort = httpPort;
        _tokenHash = token is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));
        _logger = logger;
    }

    /// <summary>GET and HEAD read; every other method may change state.</summary>
    public static bool IsReadOnly(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Connection.LocalPort != _httpPort || IsReadOnly(context.Request.Method)) return next(context);
        if (_tokenHash is null) return RefuseAsync(context, StatusCodes.Status403Forbidden, "no --http-token is set: the HTTP API is read-only", "no token configured");
        if (!HasToken(context.Request.Headers.Authorization.ToString()))
        {
            context.Response.Headers.WWWAuthenticate = context.Request.Headers.Authorization.Count == 0 ? Challenge : Challenge + ", error=\"invalid_token\"";
            return RefuseAsync(context, StatusCodes.Status401Unauthorized, "this request changes state: it needs Authorization: Bearer with the node's --http-token", "missing or wrong token");
        }
        return next(context);
    }

    private bool HasToken(string authorization)
    {
        const string scheme = "Bearer ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, _tokenHash);
    }

    private Task RefuseAsync(HttpContext context, int status, string body, string reason)
    {
        if (_refusalLog.TryEnter(out var heldBack))
            HttpTokenLog.Refused(_logger, context.Request.Method, context.Request.Path.ToString(), context.Connection.RemoteIpAddress?.ToString() ?? "?", reason, heldBack);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(body + "\n");
    }
}

/// <summary>Log messages of the HTTP token check (event ids 1291-1299). Never the token, nor the Authorization header.</summary>
internal static partial class HttpTokenLog
{
    [LoggerMessage(EventId = 1291, Level = LogLevel.Warning, Message = "HTTP {Method} {Path} from {Remote} refused: {Reason} ({HeldBack} more refusals not logged)")]
    public static partial void Refused(ILogger logger, string method, string path, string remote, string reason, long heldBack);
}

/// <summary>Puts <see cref="HttpTokenCheck"/> in front of the endpoints.</summary>
public static class HttpTokenHosting
{
    public static IApplicationBuilder UseHttpToken(this IApplicationBuilder app, int httpPort, string? token, ILoggerFactory loggers)
    {
        var check = new HttpTokenCheck(httpPort, token, loggers.CreateLogger<HttpTokenCheck>());
        return app.Use((context, next) => check.InvokeAsync(context, next));
    }
}
