using System.CommandLine;
using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Metadata;
using EdgeStream.Security.Acls;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream acls add|remove|list</c>: the node's ACLs (in <c>{data}/meta.db</c>), enforced with
/// <c>--authorizer on</c>. Works on the data directory, so on a stopped node, as <c>edgestream users</c>
/// does; a running node's ACLs are changed over Kafka (CreateAcls, DeleteAcls) by a principal with
/// Alter on the cluster, e.g. a <c>--super-users</c> one with <c>kafka-acls</c>.
/// </summary>
internal static class AclsCommand
{
    private static readonly StoppedNodeMetadata s_metadata = new("acls",
        "A running node's ACLs are changed over Kafka (CreateAcls/DeleteAcls, e.g. kafka-acls --bootstrap-server HOST:9092 --command-config admin.properties --add ...) by a --super-users principal, or stop the node first.");

    public static Command Create()
    {
        var command = new Command("acls", "Add, remove and list the ACLs Kafka and MQTT enforce with --authorizer on (on a stopped node's data directory).");
        command.Subcommands.Add(Change("add", "Add ACLs: PRINCIPAL may (or, with --deny, may not) do each --operation on the resource.", add: true));
        command.Subcommands.Add(Change("remove", "Remove the ACLs given exactly as they were added.", add: false));
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Change(string name, string description, bool add)
    {
        var principal = new Option<string>("--principal") { Description = "User:NAME, or User:* for every user.", Required = true };
        var host = new Option<string>("--host") { Description = "The client address the ACL applies to [default: * (any)].", DefaultValueFactory = _ => AclBinding.Wildcard };
        var operations = new Option<string[]>("--operation")
        {
            Description = "read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write or all; repeatable",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var topic = new Option<string>("--topic") { Description = "The topic (or prefix with --prefixed; * is every topic)." };
        var group = new Option<string>("--group") { Description = "The consumer group (or prefix with --prefixed; * is every group)." };
        var transactionalId = new Option<string>("--transactional-id") { Description = "The transactional id (or prefix with --prefixed; * is every one)." };
        var cluster = new Option<bool>("--cluster") { Description = "The cluster (ACL administration, idempotent producers, broker configs)." };
        var prefixed = new Option<bool>("--prefixed") { Description = "The resource name is a prefix: the ACL covers every resource whose name starts with it." };
        var deny = new Option<bool>("--deny") { Description = "A DENY ACL (wins over any ALLOW)." };
        var command = new Command(name, description) { principal, host, operations, topic, group, transactionalId, cluster, prefixed, deny };
        var settings = new SettingOptions(command, [AgentSettings.Data, AgentSettings.Config]);
        command.SetAction(parseResult =>
        {
            var resources = new List<(AclResourceType, string)>();
            if (parseResult.GetValue(topic) is { } t) resources.Add((AclResourceType.Topic, t));
            if (parseResult.GetValue(group) is { } g) resources.Add((AclResourceType.Group, g));
            if (parseResult.GetValue(transactionalId) is { } x) resources.Add((AclResourceType.TransactionalId, x));
            if (parseResult.GetValue(cluster)) resources.Add((AclResourceType.Cluster, AclBinding.ClusterName));
            if (resources.Count != 1) return s_metadata.Usage("name exactly one resource: --topic, --group, --transactional-id or --cluster.");
            var (type, resourceName) = resources[0];
            var bindings = new List<AclBinding>();
            foreach (var text in parseResult.GetValue(operations) ?? [])
            {
                if (AclText.ParseOperation(text) is not { } operation) return s_metadata.Usage($"--operation {text}: not an operation.");
                var binding = new AclBinding(type, resourceName, parseResult.GetValue(prefixed) ? AclPatternType.Prefixed : AclPatternType.Literal,
                    parseResult.GetValue(principal)!, parseResult.GetValue(host)!, operation, parseResult.GetValue(deny) ? AclPermission.Deny : AclPermission.Allow);
                if (binding.Problem() is { } problem) return s_metadata.Usage(problem + ".");
                bindings.Add(binding);
            }
            return s_metadata.Run(settings, parseResult, metadata =>
            {
                var store = new AclStore(metadata);
                var stored = bindings.ConvertAll(b => b.ToStored());
                if (add)
                {
                    store.Add(stored);
                    foreach (var b in bindings) Console.Out.WriteLine($"added: {AclText.Describe(b)}");
                    return ExitCodes.Ok;
                }
                var removed = store.Remove(stored);
                Console.Out.WriteLine($"removed {removed} of {bindings.Count}");
                return removed == bindings.Count ? ExitCodes.Ok : s_metadata.Fail("some of these ACLs did not exist.");
            });
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List every ACL.");
        var settings = new SettingOptions(command, [AgentSettings.Data, AgentSettings.Config]);
        command.SetAction(parseResult => s_metadata.Run(settings, parseResult, metadata =>
        {
            var acls = new AclStore(metadata).List();
            if (acls.Count == 0) Console.Out.WriteLine("no acls");
            foreach (var acl in acls) Console.Out.WriteLine(AclText.Describe(AclBinding.FromStored(acl)));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
