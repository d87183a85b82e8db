namespace EdgeStream.Metadata;
internal static class AssemblyMarker { }
