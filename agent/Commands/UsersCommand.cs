using System.CommandLine;
using EdgeStream.Common.Security;
using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Metadata;
using EdgeStream.Security.Authentication;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream users add|delete|list</c>: the node's users (SCRAM credentials in <c>{data}/meta.db</c>)
/// for Kafka SASL and MQTT. Works on the data directory, so on a stopped node; a running node's users
/// are changed over Kafka by a <c>--super-users</c> principal (AlterUserScramCredentials).
/// </summary>
internal static class UsersCommand
{
    private const int DefaultIterations = ScramMechanism.MinIterations;
    private static readonly StoppedNodeMetadata s_metadata = new("users",
        "A running node's users are changed over Kafka by a --super-users principal (e.g. kafka-configs --alter --add-config 'SCRAM-SHA-512=[password=...]' --entity-type users --entity-name NAME), or stop the node first.");

    public static Command Create()
    {
        var command = new Command("users", "Add, delete and list the users Kafka SASL and MQTT authenticate against (on a stopped node's data directory).");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Add()
    {
        var name = new Argument<string>("NAME") { Description = "The user name (no spaces, ',', '=' or ':')." };
        var mechanisms = new Option<string[]>("--mechanism") { Description = "scram-sha-256 or scram-sha-512; repeatable [default: both]", AllowMultipleArgumentsPerToken = true };
        var iterations = new Option<int>("--iterations") { Description = $"SCRAM iterations, {ScramMechanism.MinIterations}-{ScramMechanism.MaxIterations}", DefaultValueFactory = _ => DefaultIterations };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input." };
        var passwordFile = new Option<string>("--password-file") { Description = "Read the password from FILE (its first line)." };
        var password = new Option<string>("--password") { Description = "The password itself (visible to other users in the process list: prefer --password-stdin)." };
        var command = new Command("add", "Add a user, or replace its password for the given mechanisms.") { name, mechanisms, iterations, passwordStdin, passwordFile, password };
        var settings = new SettingOptions(command, [AgentSettings.Data, AgentSettings.Config]);
        command.SetAction(parseResult =>
        {
            var user = parseResult.GetValue(name)!;
            if (!UserAuthenticator.IsValidUserName(user)) return Usage($"'{user}' is not a user name: 1-256 characters without spaces, control characters, ',', '=' or ':'.");
            var chosen = new List<ScramMechanism>();
            foreach (var m in parseResult.GetValue(mechanisms) ?? [])
            {
                if (ScramMechanism.FromName(m) is not { } mechanism) return Usage($"--mechanism {m}: expected scram-sha-256 or scram-sha-512.");
                if (!chosen.Contains(mechanism)) chosen.Add(mechanism);
            }
            if (chosen.Count == 0) chosen.AddRange(ScramMechanism.All);
            var rounds = parseResult.GetValue(iterations);
            if (rounds is < ScramMechanism.MinIterations or > ScramMechanism.MaxIterations)
                return Usage($"--iterations must be from {ScramMechanism.MinIterations} to {ScramMechanism.MaxIterations}.");

            var sources = (parseResult.GetValue(passwordStdin) ? 1 : 0) + (parseResult.GetValue(passwordFile) is null ? 0 : 1) + (parseResult.GetValue(password) is null ? 0 : 1);
            if (sources != 1) return Usage("give the password with exactly one of --password-stdin, --password-file FILE or --password.");
            string? secret;
            if (parseResult.GetValue(password) is { } given)
            {
                Console.Error.WriteLine("edgestream users: warning: a password on the command line is visible in the process list and shell history; prefer --password-stdin.");
                secret = given;
            }
            else if (parseResult.GetValue(passwordFile) is { } file)
            {
                try { secret = FirstLine(File.ReadAllText(file)); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return Fail($"--password-file {file}: {ex.Message}"); }
            }
            else secret = Console.In.ReadLine();
            if (string.IsNullOrEmpty(secret)) return Usage("the password is empty.");

            return WithStore(settings, parseResult, store =>
            {
                foreach (var mechanism in chosen) store.Upsert(user, ScramCredentials.Create(secret, mechanism, rounds));
                Console.Out.WriteLine($"user {user}: {string.Join(", ", chosen.Select(m => m.Name))} ({rounds} iterations)");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command Delete()
    {
        var name = new Argument<string>("NAME") { Description = "The user to delete." };
        var mechanism = new Option<string>("--mechanism") { Description = "Delete only this mechanism's credential (scram-sha-256 or scram-sha-512)." };
        var command = new Command("delete", "Delete a user (or one of its credentials).") { name, mechanism };
        var settings = new SettingOptions(command, [AgentSettings.Data, AgentSettings.Config]);
        command.SetAction(parseResult =>
        {
            var user = parseResult.GetValue(name)!;
            string? only = null;
            if (parseResult.GetValue(mechanism) is { } m)
            {
                if (ScramMechanism.FromName(m) is not { } scram) return Usage($"--mechanism {m}: expected scram-sha-256 or scram-sha-512.");
                only = scram.Name;
            }
            return WithStore(settings, parseResult, store =>
            {
                if (!store.Delete(user, only)) return Fail($"no user {user}{(only is null ? "" : " with " + only)}.");
                Console.Out.WriteLine($"deleted {user}{(only is null ? "" : " " + only)}");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the users and their mechanisms (never a secret).");
        var settings = new SettingOptions(command, [AgentSettings.Data, AgentSettings.Config]);
        command.SetAction(parseResult => WithStore(settings, parseResult, store =>
        {
            var users = store.List();
            if (users.Count == 0) Console.Out.WriteLine("no users");
            foreach (var user in users) Console.Out.WriteLine($"{user.Name}\t{string.Join(",", user.Mechanisms)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static int WithStore(SettingOptions settings, ParseResult parseResult, Func<UserCredentialStore, int> action) =>
        s_metadata.Run(settings, parseResult, metadata => action(new UserCredentialStore(metadata)));

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    private static int Usage(string message) => s_metadata.Usage(message);

    private static int Fail(string message) => s_metadata.Fail(message);
}
