using System.CommandLine;
using EdgeStream.Hosting;

namespace EdgeStream.Agent.Commands;

/// <summary><c>edgestream version</c>: print the version, the commit it was built from and the runtime, then exit.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the edgestream version.");
        command.SetAction(_ =>
        {
            Console.Out.WriteLine($"edgestream {EdgeStreamVersion.Current} (commit {EdgeStreamVersion.Commit}; {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
