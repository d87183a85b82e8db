using System.Text;
using EdgeStream.Common.Security;
using EdgeStream.Kafka.Client;
using EdgeStream.Security.Authentication;

namespace EdgeStream.Agent.Tests;

/// <summary>The SCRAM client of Kafka.Client (the sink's SASL): RFC 7677's example byte for byte, and our own server side.</summary>
public sealed class ScramClientTests : IDisposable
{
    private const string Rfc7677ServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    private readonly UserAuthenticatorHarness _users = new();

    private UserAuthenticator Authenticator => _users.Authenticator;

    public void Dispose() => _users.Dispose();

    [Fact]
    public void Rfc7677Example_ClientMessagesAndServerSignature()
    {
        // RFC 7677 §3: user "user", password "pencil", the client nonce injected.
        var client = new ScramClient(ScramMechanism.Sha256, "user", "pencil", nonce: "rOprNGfwEbeRWgbNEkqO");
        Assert.Equal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", Encoding.UTF8.GetString(client.ClientFirst()));
        var final = client.ClientFinal(Encoding.UTF8.GetBytes(Rfc7677ServerFirst));
        Assert.Equal("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", Encoding.UTF8.GetString(final));
        client.VerifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="u8);
    }

    [Fact]
    public void Rfc7677Example_WrongServerSignature_Refused()
    {
        var client = new ScramClient(ScramMechanism.Sha256, "user", "pencil", nonce: "rOprNGfwEbeRWgbNEkqO");
        client.ClientFirst();
        client.ClientFinal(Encoding.UTF8.GetBytes(Rfc7677ServerFirst));
        var ex = Assert.Throws<KafkaClientException>(() => client.VerifyServerFinal("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="u8));
        Assert.Equal(KafkaErrors.SaslAuthenticationFailed, ex.ErrorCode);
    }

    [Fact]
    public void ClientFirst_UserNameWithCommaAndEquals_Escaped()
    {
        // RFC 5802 §5.1 saslname; other brokers allow such names, ours does not.
        var client = new ScramClient(ScramMechanism.Sha512, "a=b,c", "pw", nonce: "N0nce");
        Assert.Equal("n,,n=a=3Db=2Cc,r=N0nce", Encoding.UTF8.GetString(client.ClientFirst()));
    }

    [Theory]
    [InlineData("r=someoneelse%hvYDpWUa2RaTCAfuxFIlj,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce")] // does not extend ours
    [InlineData("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce")] // adds nothing of the server's
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1024", "iterations")] // below RFC 7677's minimum
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,i=4096", "malformed")]
    [InlineData("e=unknown-user", "refused")]
    public void ServerFirst_Unacceptable_Refused(string serverFirst, string reason)
    {
        var client = new ScramClient(ScramMechanism.Sha256, "user", "pencil", nonce: "rOprNGfwEbeRWgbNEkqO");
        client.ClientFirst();
        var ex = Assert.Throws<KafkaClientException>(() => client.ClientFinal(Encoding.UTF8.GetBytes(serverFirst)));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Equal(KafkaErrors.SaslAuthenticationFailed, ex.ErrorCode);
    }

    [Theory]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("SCRAM-SHA-512")]
    public void AgainstOurServer_RightPassword_BothSidesVerify(string name)
    {
        var mechanism = ScramMechanism.FromName(name)!;
        Authenticator.Store.Upsert("alice", ScramCredentials.Create("s3cret", mechanism, 4096));
        var server = Authenticator.Start(name)!;
        var client = new ScramClient(mechanism, "alice", "s3cret");
        Assert.Equal(SaslOutcome.Continue, server.Evaluate(client.ClientFirst(), out var serverFirst));
        Assert.Equal(SaslOutcome.Succeeded, server.Evaluate(client.ClientFinal(serverFirst), out var serverFinal));
        Assert.Equal("alice", server.UserName);
        client.VerifyServerFinal(serverFinal);
    }

    [Fact]
    public void AgainstOurServer_WrongPassword_ServerRefuses()
    {
        Authenticator.Store.Upsert("alice", ScramCredentials.Create("s3cret", ScramMechanism.Sha512, 4096));
        var server = Authenticator.Start("SCRAM-SHA-512")!;
        var client = new ScramClient(ScramMechanism.Sha512, "alice", "wrong");
        Assert.Equal(SaslOutcome.Continue, server.Evaluate(client.ClientFirst(), out var serverFirst));
        Assert.Equal(SaslOutcome.Failed, server.Evaluate(client.ClientFinal(serverFirst), out _));
    }
}
