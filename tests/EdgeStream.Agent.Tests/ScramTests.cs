using System.Text;
using EdgeStream.Common.Security;
using EdgeStream.Security.Authentication;

namespace EdgeStream.Agent.Tests;

/// <summary>SCRAM and PLAIN on the server side, against RFC 7677's example and a client written here from RFC 5802.</summary>
public sealed class ScramTests : IDisposable
{
    private readonly UserAuthenticatorHarness _users = new();

    private UserAuthenticator Authenticator => _users.Authenticator;

    public void Dispose() => _users.Dispose();

    [Fact]
    public void Formulas_Rfc7677Example_SameProofAndServerSignature()
    {
        // RFC 7677 §3: user "user", password "pencil".
        var mechanism = ScramMechanism.Sha256;
        var salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");
        var salted = mechanism.SaltedPassword("pencil", salt, 4096);
        var credential = ScramCredentials.FromSaltedPassword(mechanism, salt, 4096, salted);
        var authMessage = Encoding.UTF8.GetBytes("n=user,r=rOprNGfwEbeRWgbNEkqO,"
            + "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
            + "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
        var proof = mechanism.Hmac(salted, "Client Key"u8);
        var signature = mechanism.Hmac(credential.StoredKey, authMessage);
        for (var i = 0; i < proof.Length; i++) proof[i] ^= signature[i];
        Assert.Equal("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", Convert.ToBase64String(proof));
        Assert.Equal("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", Convert.ToBase64String(mechanism.Hmac(credential.ServerKey, authMessage)));
        Assert.True(ScramCredentials.Verify(credential, "pencil"));
        Assert.False(ScramCredentials.Verify(credential, "pencil "));
    }

    /// <summary>A SCRAM client (RFC 5802 §3) running one exchange; returns the server's outcome of the final message.</summary>
    private SaslOutcome Exchange(string mechanismName, string user, string password, out string serverFirst, bool checkServerSignature = true)
    {
        var mechanism = ScramMechanism.FromName(mechanismName)!;
        var exchange = Authenticator.Start(mechanismName)!;
        var clientFirstBare = $"n={user},r=clientnonce123";
        Assert.Equal(SaslOutcome.Continue, exchange.Evaluate(Encoding.UTF8.GetBytes("n,," + clientFirstBare), out var first));
        serverFirst = Encoding.UTF8.GetString(first);
        var attributes = serverFirst.Split(',').ToDictionary(a => a[..1], a => a[2..]);
        Assert.StartsWith("clientnonce123", attributes["r"]);
        var salted = mechanism.SaltedPassword(password, Convert.FromBase64String(attributes["s"]), int.Parse(attributes["i"], System.Globalization.CultureInfo.InvariantCulture));
        var withoutProof = $"c=biws,r={attributes["r"]}";
        var authMessage = Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{withoutProof}");
        var clientKey = mechanism.Hmac(salted, "Client Key"u8);
        var signature = mechanism.Hmac(mechanism.H(clientKey), authMessage);
        for (var i = 0; i < clientKey.Length; i++) clientKey[i] ^= signature[i];
        var outcome = exchange.Evaluate(Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(clientKey)}"), out var final);
        if (outcome == SaslOutcome.Succeeded && checkServerSignature)
        {
            var expected = "v=" + Convert.ToBase64String(mechanism.Hmac(mechanism.Hmac(salted, "Server Key"u8), authMessage));
            Assert.Equal(expected, Encoding.UTF8.GetString(final));
        }
        return outcome;
    }

    [Theory]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("SCRAM-SHA-512")]
    public void Scram_RightPassword_SucceedsWithServerSignature_WrongOrUnknownFailAtTheProof(string mechanism)
    {
        Authenticator.Store.Upsert("alice", ScramCredentials.Create("secret", ScramMechanism.FromName(mechanism)!, 4096));
        Assert.Equal(SaslOutcome.Succeeded, Exchange(mechanism, "alice", "secret", out _));
        Assert.Equal(SaslOutcome.Failed, Exchange(mechanism, "alice", "wrong", out _));

        // An unknown user gets a salt and iterations like anyone (the same salt each time), then fails.
        Assert.Equal(SaslOutcome.Failed, Exchange(mechanism, "nobody", "secret", out var first1));
        Assert.Equal(SaslOutcome.Failed, Exchange(mechanism, "nobody", "secret", out var first2));
        Assert.Equal(first1.Split(',')[1], first2.Split(',')[1]);
        Assert.EndsWith(",i=4096", first1);
    }

    [Theory]
    [InlineData("p=tls-unique,,n=alice,r=x")] // channel binding: not offered
    [InlineData("n,,r=x,n=alice")]            // attributes out of order
    [InlineData("n,,n=al=ice,r=x")]           // bad escape
    [InlineData("n,,n=alice,r=")]             // empty nonce
    [InlineData("n,a=bob,n=alice,r=x")]       // acting as someone else
    [InlineData("n,,n=alice,r=x,tokenauth=true")]
    public void Scram_MalformedClientFirst_Fails(string clientFirst)
    {
        var exchange = Authenticator.Start("SCRAM-SHA-256")!;
        Assert.Equal(SaslOutcome.Failed, exchange.Evaluate(Encoding.UTF8.GetBytes(clientFirst), out var challenge));
        Assert.Empty(challenge);
    }

    [Fact]
    public void Plain_ChecksTheScramCredential_AuthzidMustBeTheUser()
    {
        Authenticator.Store.Upsert("alice", ScramCredentials.Create("secret", ScramMechanism.Sha512, 4096));
        SaslOutcome Plain(string message) => Authenticator.Start("PLAIN")!.Evaluate(Encoding.UTF8.GetBytes(message), out _);
        Assert.Equal(SaslOutcome.Succeeded, Plain("\0alice\0secret"));
        Assert.Equal(SaslOutcome.Succeeded, Plain("alice\0alice\0secret"));
        Assert.Equal(SaslOutcome.Failed, Plain("bob\0alice\0secret"));
        Assert.Equal(SaslOutcome.Failed, Plain("\0alice\0wrong"));
        Assert.Equal(SaslOutcome.Failed, Plain("\0nobody\0secret"));
        Assert.Equal(SaslOutcome.Failed, Plain("\0alice\0"));
        Assert.Equal(SaslOutcome.Failed, Plain("alice"));
        Assert.Null(Authenticator.Start("scram-sha-256")); // SASL names are exact
        Assert.Null(Authenticator.Start("GSSAPI"));
    }

    [Fact]
    public void Store_UpsertDeleteList_PerMechanism()
    {
        var store = Authenticator.Store;
        store.Upsert("bob", ScramCredentials.Create("pw", ScramMechanism.Sha256, 4096));
        store.Upsert("bob", ScramCredentials.Create("pw", ScramMechanism.Sha512, 8192));
        store.Upsert("amy", ScramCredentials.Create("pw", ScramMechanism.Sha256, 4096));
        Assert.Equal(["amy", "bob"], store.List().Select(u => u.Name));
        Assert.Equal(["SCRAM-SHA-256", "SCRAM-SHA-512"], store.List()[1].Mechanisms);
        Assert.Equal(8192, store.Get("bob", "SCRAM-SHA-512")!.Iterations);
        Assert.True(store.Delete("bob", "SCRAM-SHA-512"));
        Assert.False(store.Delete("bob", "SCRAM-SHA-512"));
        Assert.True(store.Delete("bob", "SCRAM-SHA-256")); // the last credential: the user goes
        Assert.Equal(["amy"], store.List().Select(u => u.Name));
        Assert.Throws<EdgeStream.Security.SecurityException>(() => ScramCredentials.Create("pw", ScramMechanism.Sha256, 1000));
    }
}
