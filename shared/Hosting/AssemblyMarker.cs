namespace EdgeStream.Hosting;
internal static class AssemblyMarker { }
