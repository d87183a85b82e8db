using EdgeStream.Common.Security;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;
using EdgeStream.Security.Authentication;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AlterUserScramCredentials (KIP-554): deletions by user and mechanism; upsertions carry the
    // salt, iterations and SaltedPassword = Hi(password, salt, i) the admin client computed, from which
    // StoredKey and ServerKey are derived and stored. One result per user, in request order. Super
    // users only, or with --authorizer on Alter on the cluster (Kafka's rule).
    private AlterUserScramCredentialsResponse HandleAlterUserScramCredentials(KafkaRequestContext context, AlterUserScramCredentialsRequest request)
    {
        var response = new AlterUserScramCredentialsResponse();
        var results = new Dictionary<string, AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult>(StringComparer.Ordinal);
        AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult ResultFor(string user)
        {
            if (!results.TryGetValue(user, out var result))
            {
                result = new() { User = user, ErrorMessage = null };
                results[user] = result;
                response.Results.Add(result);
            }
            return result;
        }
        static void Refuse(AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult result, KafkaErrorCode code, string message)
        {
            if (result.ErrorCode != 0) return; // the first problem of a user is the one reported
            result.ErrorCode = (short)code;
            result.ErrorMessage = message;
        }

        var refused = UserAdministrationRefusal(context, AclOperation.Alter);
        foreach (var deletion in request.Deletions)
        {
            var result = ResultFor(deletion.Name);
            if (refused is not null) Refuse(result, KafkaErrorCode.ClusterAuthorizationFailed, refused);
            else if (ScramMechanism.FromKafkaType(deletion.Mechanism) is not { } mechanism) Refuse(result, KafkaErrorCode.UnsupportedSaslMechanism, "unknown SCRAM mechanism");
            else if (!Authenticator!.Store.Delete(deletion.Name, mechanism.Name)) Refuse(result, KafkaErrorCode.ResourceNotFound, "no such credential");
        }
        foreach (var upsertion in request.Upsertions)
        {
            var result = ResultFor(upsertion.Name);
            var mechanism = ScramMechanism.FromKafkaType(upsertion.Mechanism);
            if (refused is not null) Refuse(result, KafkaErrorCode.ClusterAuthorizationFailed, refused);
            else if (mechanism is null) Refuse(result, KafkaErrorCode.UnsupportedSaslMechanism, "unknown SCRAM mechanism");
            else if (!UserAuthenticator.IsValidUserName(upsertion.Name)) Refuse(result, KafkaErrorCode.UnacceptableCredential, "user names are 1-256 characters without spaces, control characters, ',', '=' or ':'");
            else if (upsertion.Iterations is < ScramMechanism.MinIterations or > ScramMechanism.MaxIterations)
                Refuse(result, KafkaErrorCode.UnacceptableCredential, $"iterations must be from {ScramMechanism.MinIterations} to {ScramMechanism.MaxIterations}");
            else if (upsertion.Salt.Length == 0 || upsertion.SaltedPassword.Length != mechanism.KeyBytes)
                Refuse(result, KafkaErrorCode.UnacceptableCredential, "salt empty or salted password of the wrong length");
            else
                Authenticator!.Store.Upsert(upsertion.Name, ScramCredentials.FromSaltedPassword(mechanism, upsertion.Salt, upsertion.Iterations, upsertion.SaltedPassword));
        }
        return response;
    }
}
