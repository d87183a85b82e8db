// EdgeStream build script (Cake). Run through ./build.sh, which restores the Cake tool first:
//   ./build.sh            -> Build
//   ./build.sh test       -> Test (installs missing test peers when root, then every test project)
//   ./build.sh run -- ... -> Build, then runs the agent (build.sh execs it so signals reach it)
//   ./build.sh bench      -> Bench (tools/EdgeStream.Bench; --bench-args="SCENARIO ...")

var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var agentArgs = Argument("agent-args", "");
var benchArgs = Argument("bench-args", "storage-append");

const string Solution = "EdgeStream.sln";
var testResults = Directory("artifacts/test-results");
var agentDll = File($"agent/bin/{configuration}/net10.0/edgestream.dll");
var benchDll = File($"tools/EdgeStream.Bench/bin/{configuration}/net10.0/edgestream-bench.dll");

// The programs integration tests talk to, as Debian package names. THE one list: add a peer here.
var testPeers = new[]
{
    "kcat", "mosquitto", "mosquitto-clients", "python3-kafka", "python3-paho-mqtt", "nats-server", "postgresql", "nodejs",
    // mDNS tests: network namespaces (ip netns) and an mDNS implementation that is not ours.
    "iproute2", "python3-zeroconf",
    // Observability tests: promtool checks /metrics, a real Prometheus server scrapes a node,
    // Playwright drives Debian's headless chromium through the dashboard.
    "prometheus", "chromium",
};

Task("Restore")
    .Does(() => DotNetRestore(Solution));

Task("Build")
    .IsDependentOn("Restore")
    .Does(() => DotNetBuild(Solution, new DotNetBuildSettings
    {
        Configuration = configuration,
        NoRestore = true,
    }));

Task("TestPeers")
    .Description("Installs missing test peers with apt when running as root; otherwise says what to install.")
    .Does(() =>
    {
        var missing = testPeers.Where(p => !IsInstalled(p)).ToList();
        if (missing.Count == 0)
        {
            Information("Test peers: all installed.");
            return;
        }
        if (!IsRoot())
        {
            Warning($"Test peers missing: {string.Join(" ", missing)}.");
            Warning($"Install them with: sudo apt-get install -y {string.Join(" ", missing)}");
            Warning("Continuing: tests that need a missing peer fail with a message naming it.");
            return;
        }

        Information($"Installing test peers: {string.Join(" ", missing)}");
        // No network, a slow mirror or one unknown package must not abort the test run.
        if (Apt("update -qq", 300_000) != 0) Warning("apt-get update failed; trying to install from the current package lists.");
        if (Apt($"install -y -qq --no-install-recommends {string.Join(" ", missing)}", 900_000) != 0)
        {
            foreach (var p in missing)
                if (Apt($"install -y -qq --no-install-recommends {p}", 600_000) != 0) Warning($"Could not install test peer {p}.");
        }
        var still = testPeers.Where(p => !IsInstalled(p)).ToList();
        if (still.Count > 0) Warning($"Test peers still missing: {string.Join(" ", still)}; tests that need them will fail naming them.");
    });

// npm packages tests use, one folder each with a package.json and its package-lock.json (npm ci installs exactly those).
var testNodePackages = new[] { "tests/EdgeStream.Kafka.Tests/kafkajs" };

Task("TestNodePackages")
    .Description("Installs the npm packages tests use (npm ci per folder of testNodePackages); a failure is a warning and the tests that need them fail naming them.")
    .IsDependentOn("TestPeers")
    .Does(() =>
    {
        if (!HasCommand("npm") && IsRoot() && Apt("install -y -qq --no-install-recommends npm", 600_000) != 0)
            Warning("Could not install npm.");
        foreach (var folder in testNodePackages)
        {
            if (DirectoryExists($"{folder}/node_modules")) { Information($"npm packages of {folder}: installed."); continue; }
            var code = HasCommand("npm")
                ? StartProcess("npm", new ProcessSettings { Arguments = "ci --no-audit --no-fund --loglevel=error", WorkingDirectory = folder, Timeout = 600_000 })
                : -1;
            if (code != 0) Warning($"npm ci in {folder} failed ({code}); the tests that need it will fail naming it.");
        }
    });

Task("Test")
    .IsDependentOn("Build")
    .IsDependentOn("TestPeers")
    .IsDependentOn("TestNodePackages")
    .Does(() =>
    {
        CleanDirectory(testResults);
        // Test projects run in parallel (one process each); each writes its own TRX file.
        DotNetTest(Solution, new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            Loggers = new[] { "trx", "console;verbosity=normal" },
            ResultsDirectory = testResults,
        });
    });

Task("AotPublish")
    .Description("Publishes the agent with NativeAOT for linux-x64 into artifacts/aot: trimming and AOT analysis warnings are errors, so this is the check that the edge binary still builds.")
    .Does(() =>
    {
        DotNetPublish("agent/EdgeStream.Agent.csproj", new DotNetPublishSettings
        {
            Configuration = "Release",
            Runtime = "linux-x64",
            OutputDirectory = "artifacts/aot",
        });
    });

Task("Run")
    .Description("Builds and runs the agent with embedded defaults (pass flags with --agent-args=\"...\"; build.sh run does this for you).")
    .IsDependentOn("Build")
    .Does(() =>
    {
        var code = StartProcess("dotnet", new ProcessSettings
        {
            Arguments = new ProcessArgumentBuilder().AppendQuoted(agentDll.Path.FullPath).Append("run").Append(agentArgs),
        });
        if (code != 0) throw new Exception($"edgestream exited with {code}");
    });

Task("Bench")
    .Description("Runs a benchmark scenario of tools/EdgeStream.Bench (--bench-args=\"SCENARIO [--key value ...]\", default storage-append).")
    .IsDependentOn("Build")
    .Does(() =>
    {
        var code = StartProcess("dotnet", new ProcessSettings
        {
            Arguments = new ProcessArgumentBuilder().AppendQuoted(benchDll.Path.FullPath).Append(benchArgs),
        });
        if (code != 0) throw new Exception($"edgestream-bench exited with {code}");
    });

Task("Default").IsDependentOn("Build");

RunTarget(target);

bool IsInstalled(string package)
{
    var settings = new ProcessSettings
    {
        Arguments = $"-W -f=${{Status}} {package}",
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    try
    {
        var code = StartProcess("dpkg-query", settings, out var output);
        return code == 0 && output.Any(l => l.Contains("install ok installed"));
    }
    catch (Exception)
    {
        return false; // no dpkg: not a Debian machine, so nothing counts as installed
    }
}

bool HasCommand(string name)
{
    try
    {
        return StartProcess("sh", new ProcessSettings { Arguments = $"-c \"command -v {name}\"", RedirectStandardOutput = true }) == 0;
    }
    catch (Exception)
    {
        return false;
    }
}

bool IsRoot()
{
    try
    {
        var code = StartProcess("id", new ProcessSettings { Arguments = "-u", RedirectStandardOutput = true }, out var output);
        return code == 0 && output.FirstOrDefault()?.Trim() == "0";
    }
    catch (Exception)
    {
        return false;
    }
}

int Apt(string arguments, int timeoutMs)
{
    try
    {
        return StartProcess("apt-get", new ProcessSettings
        {
            Arguments = arguments,
            Timeout = timeoutMs,
            EnvironmentVariables = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" },
        });
    }
    catch (Exception ex)
    {
        Warning($"apt-get {arguments}: {ex.Message}");
        return -1;
    }
}
