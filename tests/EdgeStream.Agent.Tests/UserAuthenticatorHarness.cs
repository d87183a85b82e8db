using EdgeStream.Metadata;
using EdgeStream.Security.Authentication;
using EdgeStream.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeStream.Agent.Tests;

/// <summary>
/// The server side of SASL over a throw-away user store (meta.db in a temporary directory): what the SCRAM server
/// tests and the SCRAM client tests both exchange messages with.
/// </summary>
internal sealed class UserAuthenticatorHarness : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly MetadataStore _metadata;

    public UserAuthenticatorHarness()
    {
        _metadata = MetadataStore.Open(_dir.Combine("meta.db"));
        Authenticator = new UserAuthenticator(new UserCredentialStore(_metadata), new AuthenticationAudit(NullLogger.Instance));
    }

    public UserAuthenticator Authenticator { get; }

    public void Dispose()
    {
        _metadata.Dispose();
        _dir.Dispose();
    }
}
