using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

// edgestream-size-report FILE.mstat [--by assembly|namespace|type] [--top N] [--filter TEXT]
//
// Where the bytes of a NativeAOT binary go, from the .mstat the ILCompiler writes with
// -p:IlcGenerateMstatFile=true (obj/Release/net10.0/RID/native/edgestream.mstat). The .mstat is an IL
// assembly whose global type has methods "Methods" (ldtoken method; ldc.i4 code size; ldc.i4 GC info
// size; ldc.i4 EH info size; from format 2, ldc.i4 offset), "Types" (ldtoken type; ldc.i4 size; from
// format 2, ldc.i4 offset) and "Blobs" (ldstr name; ldc.i4 size).
// Sizes are compiled code and type data before the linker; the binary also holds the runtime, the
// metadata for reflection and stack traces, and .eh_frame, so the totals are less than the file.
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: edgestream-size-report FILE.mstat [--by assembly|namespace|type] [--top N] [--filter TEXT]");
    return 2;
}
var by = "assembly";
var top = 40;
string? filter = null;
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--by": by = args[++i]; break;
        case "--top": top = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--filter": filter = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

using var stream = File.OpenRead(args[0]);
using var pe = new PEReader(stream);
var md = pe.GetMetadataReader();
var names = new Names(md);
var methods = new Dictionary<string, long>(StringComparer.Ordinal);
var types = new Dictionary<string, long>(StringComparer.Ordinal);
long methodTotal = 0, typeTotal = 0, blobTotal = 0;
var blobs = new List<(string Name, long Size)>();
var resources = new List<(string Name, long Size)>();

// Format 2.x (ILCompiler 8+) adds each node's offset in the object file: 5 values per method, 3 per type.
var version = md.GetAssemblyDefinition().Version;
var methodFields = version.Major >= 2 ? 5 : 4;
var typeFields = version.Major >= 2 ? 3 : 2;
var global = md.GetTypeDefinition(MetadataTokens.TypeDefinitionHandle(1));
foreach (var mh in global.GetMethods())
{
    var method = md.GetMethodDefinition(mh);
    var name = md.GetString(method.Name);
    var body = pe.GetMethodBody(method.RelativeVirtualAddress);
    var operands = Operands(body.GetILReader());
    switch (name)
    {
        case "Methods":
            for (var i = 0; i + methodFields - 1 < operands.Count; i += methodFields)
            {
                var size = operands[i + 1].Int + operands[i + 2].Int + operands[i + 3].Int;
                methodTotal += size;
                Add(methods, Key(names.OwnerOfMethod(operands[i].Token)), size);
            }
            break;
        case "Types":
            for (var i = 0; i + typeFields - 1 < operands.Count; i += typeFields)
            {
                var size = operands[i + 1].Int;
                typeTotal += size;
                Add(types, Key(names.OfTypeToken(operands[i].Token)), size);
            }
            break;
        case "ManifestResources":
            // ldc.i4 token; ldstr name; ldc.i4 size: framework exception messages live here (UseSystemResourceKeys drops them).
            for (var i = 0; i + 2 < operands.Count; i += 3)
                resources.Add((md.GetUserString((UserStringHandle)MetadataTokens.Handle(operands[i + 1].Token)), operands[i + 2].Int));
            break;
        case "Blobs":
            for (var i = 0; i + 1 < operands.Count; i += 2)
            {
                blobs.Add((md.GetUserString((UserStringHandle)MetadataTokens.Handle(operands[i].Token)), operands[i + 1].Int));
                blobTotal += operands[i + 1].Int;
            }
            break;
    }
}

Console.WriteLine($"methods {methodTotal,12:N0}  types {typeTotal,12:N0}  blobs {blobTotal,12:N0}  (bytes)");
Console.WriteLine();
var rows = methods.Keys.Union(types.Keys)
    .Select(k => (Key: k, Methods: methods.GetValueOrDefault(k), Types: types.GetValueOrDefault(k)))
    .Where(r => filter is null || r.Key.Contains(filter, StringComparison.OrdinalIgnoreCase))
    .OrderByDescending(r => r.Methods + r.Types).Take(top);
Console.WriteLine($"{"total",12} {"methods",12} {"types",10}  {by}");
foreach (var r in rows) Console.WriteLine($"{r.Methods + r.Types,12:N0} {r.Methods,12:N0} {r.Types,10:N0}  {r.Key}");
if (filter is null)
{
    Console.WriteLine();
    Console.WriteLine("largest blobs:");
    foreach (var b in blobs.OrderByDescending(b => b.Size).Take(12)) Console.WriteLine($"{b.Size,12:N0}  {b.Name}");
    Console.WriteLine();
    Console.WriteLine($"manifest resources {resources.Sum(r => r.Size):N0} bytes, largest:");
    foreach (var r in resources.OrderByDescending(r => r.Size).Take(8)) Console.WriteLine($"{r.Size,12:N0}  {r.Name}");
}
return 0;

string Key((string Assembly, string Namespace, string Type) owner) => by switch
{
    "namespace" => $"[{owner.Assembly}]{owner.Namespace}",
    "type" => $"[{owner.Assembly}]{owner.Namespace}.{owner.Type}",
    _ => owner.Assembly,
};

static void Add(Dictionary<string, long> sums, string key, long size) => sums[key] = sums.GetValueOrDefault(key) + size;

// The operands of ldtoken, ldstr and ldc.i4 in order; other instructions are skipped.
static List<(int Token, int Int)> Operands(BlobReader il)
{
    var list = new List<(int, int)>();
    while (il.RemainingBytes > 0)
    {
        var op = il.ReadByte();
        switch (op)
        {
            case 0xD0: case 0x72: var t = il.ReadInt32(); list.Add((t, 0)); break; // ldtoken, ldstr
            case 0x20: list.Add((0, il.ReadInt32())); break; // ldc.i4
            case 0x1F: list.Add((0, il.ReadSByte())); break; // ldc.i4.s
            case >= 0x16 and <= 0x1E: list.Add((0, op - 0x16)); break; // ldc.i4.0..8
            case 0x15: list.Add((0, -1)); break; // ldc.i4.m1
            case 0x26: case 0x2A: case 0x00: break; // pop, ret, nop
            default: throw new InvalidDataException($"unexpected IL opcode 0x{op:X2} in the mstat");
        }
    }
    return list;
}

/// <summary>Assembly, namespace and type name of a type or method token of the .mstat.</summary>
internal sealed class Names(MetadataReader md)
{
    private static readonly (string, string, string) Unknown = ("?", "?", "?");

    public (string Assembly, string Namespace, string Type) OwnerOfMethod(int token)
    {
        var handle = MetadataTokens.EntityHandle(token);
        switch (handle.Kind)
        {
            case HandleKind.MethodSpecification:
                return OwnerOfMethod(MetadataTokens.GetToken(md.GetMethodSpecification((MethodSpecificationHandle)handle).Method));
            case HandleKind.MemberReference:
                return OfType(md.GetMemberReference((MemberReferenceHandle)handle).Parent);
            case HandleKind.MethodDefinition:
                return OfType(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
            default:
                return Unknown;
        }
    }

    public (string Assembly, string Namespace, string Type) OfTypeToken(int token) => OfType(MetadataTokens.EntityHandle(token));

    private (string, string, string) OfType(EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.TypeReference:
            {
                var r = md.GetTypeReference((TypeReferenceHandle)handle);
                if (r.ResolutionScope.Kind == HandleKind.TypeReference)
                {
                    var outer = OfType((TypeReferenceHandle)r.ResolutionScope);
                    return (outer.Item1, outer.Item2, outer.Item3 + "+" + md.GetString(r.Name));
                }
                var assembly = r.ResolutionScope.Kind == HandleKind.AssemblyReference
                    ? md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)r.ResolutionScope).Name) : "?";
                return (assembly, md.GetString(r.Namespace), md.GetString(r.Name));
            }
            case HandleKind.TypeDefinition:
            {
                var d = md.GetTypeDefinition((TypeDefinitionHandle)handle);
                return ("(mstat)", md.GetString(d.Namespace), md.GetString(d.Name));
            }
            case HandleKind.TypeSpecification:
            {
                // Generic instantiations, arrays, pointers: attributed to the generic definition or element type.
                var blob = md.GetBlobReader(md.GetTypeSpecification((TypeSpecificationHandle)handle).Signature);
                return FromSignature(ref blob);
            }
            default:
                return Unknown;
        }
    }

    private (string, string, string) FromSignature(ref BlobReader blob)
    {
        var code = blob.ReadSignatureTypeCode();
        switch (code)
        {
            case SignatureTypeCode.GenericTypeInstance:
                return FromSignature(ref blob);
            case SignatureTypeCode.TypeHandle:
                return OfType(blob.ReadTypeHandle());
            case SignatureTypeCode.SZArray:
            case SignatureTypeCode.Pointer:
            case SignatureTypeCode.ByReference:
            case SignatureTypeCode.Array:
                return FromSignature(ref blob);
            case SignatureTypeCode.GenericTypeParameter:
            case SignatureTypeCode.GenericMethodParameter:
                return ("(generic)", "", "T");
            default:
                return ("System.Private.CoreLib", "System", code.ToString());
        }
    }
}
