namespace EdgeStream.Storage;
internal static class AssemblyMarker { }
