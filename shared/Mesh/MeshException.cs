namespace EdgeStream.Mesh;

/// <summary>Root of the mesh library's exceptions (discovery, membership, parent choice).</summary>
public class MeshException : EdgeStreamException
{
    public MeshException(string message) : base(message) { }
    public MeshException(string message, Exception inner) : base(message, inner) { }
}
