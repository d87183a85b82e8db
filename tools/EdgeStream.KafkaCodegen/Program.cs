using EdgeStream.KafkaCodegen;

// Usage:
//   dotnet run --project tools/EdgeStream.KafkaCodegen -- extract <message-specs-dir> [--out <extract.json>]
//   dotnet run --project tools/EdgeStream.KafkaCodegen -- generate [--spec <extract.json>] [--out <dir>]
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: extract <message-specs-dir> [--out file] | generate [--spec file] [--out dir]");
    return 2;
}

string? Option(string name)
{
    for (var i = 0; i < args.Length - 1; i++)
        if (args[i] == name) return args[i + 1];
    return null;
}

var root = RepoPaths.FindRepoRoot(Directory.GetCurrentDirectory());
switch (args[0])
{
    case "extract":
    {
        if (args.Length < 2) { Console.Error.WriteLine("extract needs the message-specs directory"); return 2; }
        var output = Option("--out") ?? RepoPaths.ExtractPath(root);
        var count = SpecExtractor.Extract(args[1], output);
        Console.WriteLine($"extracted {count} message definitions to {output}");
        return 0;
    }
    case "generate":
    {
        var spec = Option("--spec") ?? RepoPaths.ExtractPath(root);
        var output = Option("--out") ?? RepoPaths.MessagesPath(root);
        var files = CodeGenerator.GenerateToDirectory(spec, output);
        Console.WriteLine($"wrote {files} files to {output}");
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown command '{args[0]}'");
        return 2;
}
