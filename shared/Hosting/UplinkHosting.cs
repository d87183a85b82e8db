using EdgeStream.Security.Tls;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Http;
using EdgeStream.Hosting.Storage;
using EdgeStream.Metadata;
using EdgeStream.Uplink.Protocol;
using EdgeStream.Uplink.Receiving;
using EdgeStream.Uplink.Sending;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting;

/// <summary>
/// Wires the uplink library into a node from the agent's settings: sending to the <c>--parent</c>s and
/// accepting children's uplinks on <c>--uplink</c>. Which role does which is the role modules' decision.
/// </summary>
public static class UplinkHosting
{
    /// <summary>
    /// Accepts children's uplinks: the uplink listener, the receiver writing their frames into this node's
    /// log (de-duplicated per origin, frames up to <c>--uplink-max-frame</c>) and the gRPC service mapped on
    /// the uplink listener's port only (not on the HTTP status port). Its counters appear in <c>/v1/status</c>.
    /// The deny list of revoked nodes (<c>--revoked-nodes</c>, <c>/v1/nodes/revoked</c> on the HTTP port) goes with it.
    /// </summary>
    public static RoleBuilder AcceptUplinks(this RoleBuilder role)
    {
        var listener = role.Options.Uplink
            ?? throw new InvalidOperationException($"a {role.Options.Role.ToText()} node has no uplink listener: only gateway and cloud nodes accept uplinks");
        var tls = role.Tls; // with a certificate, AgentOptions made sure of --tls-ca
        var receiverOptions = new UplinkReceiverOptions
        {
            Limits = new UplinkFrameLimits { MaxFrameBytes = (int)role.Options.UplinkMaxFrameBytes },
            // Mutual TLS: the handshake already required a certificate from the fleet CA; the node id
            // in it must be the one the child claims, so no edge can send as another.
            CheckIdentity = tls is null ? null : (certificate, claimed) =>
                TlsMaterial.NodeIdOf(certificate) is { } id
                    ? id == claimed ? null : $"the client certificate is node {id}'s, not {claimed}'s"
                    : certificate is null ? "no client certificate" : "the client certificate names no node (URI SAN edgestream://node/ID)",
        };
        // The deny list (meta.db), seeded with --revoked-nodes; the receiver asks it on every frame.
        role.Services.AddSingleton(sp =>
        {
            var revoked = new RevokedNodes(sp.GetRequiredService<MetadataStore>());
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RevokedNodesEndpoints).FullName!);
            foreach (var id in role.Options.RevokedNodes)
                if (revoked.Revoke(id)) RevokedNodesLog.RevokedAtStart(logger, id);
            return revoked;
        });
        role.Services.AddUplinkReceiver(receiverOptions, sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            return () => state.Catalog;
        }, role.Node.NodeId, static sp =>
        {
            // Refusing a revoked node is an authentication failure like a wrong password: same audit.
            var audit = sp.GetRequiredService<EdgeStream.Security.Authentication.AuthenticationAudit>();
            return r => audit.Revoked(r.NodeId, r.Child.ToString(), r.Operation, r.Remote);
        });
        var httpPort = role.Options.Http.Port;
        return role.Listen(k => ListenForUplinks(k, listener, tls)).MapEndpoints(e =>
        {
            e.MapUplinkReceiver(listener.Port);
            e.MapRevokedNodes(httpPort);
        });
    }

    /// <summary>
    /// Forwards the log to the <c>--parent</c>s, in order of preference, with failover (the uplink sender);
    /// without <c>--parent</c>, to the parent the mesh chooses (<see cref="MeshHosting.JoinMesh"/>), idle until it names one.
    /// On a gateway it relays: records a child sent keep their origin. Its counters appear in <c>/v1/status</c>.
    /// </summary>
    public static RoleBuilder ForwardToParents(this RoleBuilder role)
    {
        var options = role.Options;
        var parents = new List<UplinkParent>(options.Parents.Count);
        foreach (var p in options.Parents) parents.Add(new UplinkParent(p.Host, p.Port));
        var senderOptions = new UplinkSenderOptions
        {
            Parents = parents,
            NodeId = role.Node.NodeId,
            Role = role.Node.Role.ToText(),
            Topics = new UplinkTopicRules(options.UplinkTopics, options.UplinkPrefix, options.UplinkRename),
            RateBytesPerSecond = options.UplinkRateBytesPerSecond,
            MaxBackoff = options.UplinkMaxBackoff,
            // No --parent: the mesh names the parent (MeshHosting.JoinMesh); until then the data stays here.
            FollowMesh = parents.Count == 0,
            // With a certificate: TLS to the parent, this certificate as the client's, and a parent
            // trusted only if the fleet CA issued its certificate (the system's roots are not asked).
            ClientCertificate = role.Tls?.Certificate,
            VerifyParent = role.Tls is { } tls ? certificate => tls.Verify(certificate, out _) : null,
        };
        if (role.Node.Profile == MemoryProfile.Small)
        {
            senderOptions = senderOptions with
            {
                Window = UplinkSenderOptions.SmallDeviceWindow,
                InitialFrameBytes = UplinkSenderOptions.SmallDeviceInitialFrameBytes,
                MaxFrameBytes = UplinkSenderOptions.SmallDeviceMaxFrameBytes,
                ReadAheadBytes = UplinkSenderOptions.SmallDeviceReadAheadBytes,
            };
        }
        role.Services.AddSingleton<UplinkStatus>();
        // A singleton as well as a hosted service: the mesh (MeshHosting) tells it which parent to use.
        role.Services.AddSingleton(sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            return new UplinkForwarder(senderOptions, () => state.Catalog, sp.GetRequiredService<MetadataStore>(),
                sp.GetRequiredService<UplinkStatus>(), sp.GetRequiredService<ILogger<UplinkForwarder>>());
        });
        role.Services.AddHostedService(static sp => sp.GetRequiredService<UplinkForwarder>());
        // The node's status (and its children's, relayed) up the same uplink, for the fleet view at the top.
        role.Services.AddHostedService<EdgeStream.Hosting.Fleet.FleetReportService>();
        return role;
    }

    // gRPC over HTTP/2: h2c in clear text, so HTTP/2 only; with TLS, mutual (ALPN h2).
    private static void ListenForUplinks(KestrelServerOptions kestrel, HostPort listener, TlsMaterial? tls)
    {
        kestrel.ListenOn(listener, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            if (tls is not null) l.UseMutualTls(tls);
        });
        // Kestrel's default 1 MiB / 768 KiB flow-control windows cap a child on a high-latency
        // link at ~window/RTT; uplink frames are up to --uplink-max-frame. Only h2 connections
        // (the uplink listener) use these.
        kestrel.Limits.Http2.InitialConnectionWindowSize = 8 * 1024 * 1024;
        kestrel.Limits.Http2.InitialStreamWindowSize = 4 * 1024 * 1024;
    }
}
