using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Hosting;

/// <summary>
/// What a role adds to the node every role runs (<see cref="RoleHost"/>). <c>edge/</c>, <c>gateway/</c>
/// and <c>cloud/</c> each provide one and decide there which shared mechanisms their nodes run (e.g.
/// <see cref="UplinkHosting.AcceptUplinks"/>); the mechanisms themselves live in <c>shared/</c>.
/// </summary>
public interface IRoleModule
{
    /// <summary>The role whose nodes get these additions.</summary>
    NodeRole Role { get; }

    /// <summary>Adds the role's services, listeners and endpoints, after the common ones are registered.</summary>
    void Configure(RoleBuilder role);
}
