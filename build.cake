// EdgeStream build script (Cake). Run through ./build.sh, which restores the Cake tool first:
//   ./build.sh            -> Build
//   ./build.sh test       -> Test (installs missing test peers when root, then every test project)
//   ./build.sh run -- ... -> Build, then runs the agent (build.sh execs it so signals reach it)
//   ./build.sh bench      -> Bench (tools/EdgeStream.Bench; --bench-args="SCENARIO ...")
//   ./build.sh publish    -> Publish (release archives and .debs for linux-x64 and linux-arm64 under artifacts/)

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
    // certs: OpenSSL verifies the chains edgestream certs writes.
    "openssl",
    // The README tour (ReadmeTourTests) waits for the edge with curl.
    "curl",
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
    .Does(() => InstallPackages("Test peers", testPeers));

// npm packages tests use, one folder each with a package.json and its package-lock.json (npm ci installs exactly those).
var testNodePackages = new[] { "tests/EdgeStream.Kafka.Tests/kafkajs", "tests/EdgeStream.Kafka.Tests/platformatic" };

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
        // The MQTT suite once more against MQTTnet's server (`--mqtt-engine mqttnet`, kept selectable while the own
        // core is new): AgentProcess hands this one runner variable to every agent a test starts.
        DotNetTest("tests/EdgeStream.Mqtt.Tests/EdgeStream.Mqtt.Tests.csproj", new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            Loggers = new[] { "trx;LogFileName=EdgeStream.Mqtt.Tests.mqttnet-engine.trx", "console;verbosity=normal" },
            ResultsDirectory = testResults,
            EnvironmentVariables = new Dictionary<string, string> { ["EDGESTREAM_MQTT_ENGINE"] = "mqttnet" },
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

// Release targets: .NET runtime id and Debian architecture. The arm64 build is a NativeAOT cross-compile from x64.
var releaseTargets = new[] { (Rid: "linux-x64", DebArch: "amd64"), (Rid: "linux-arm64", DebArch: "arm64") };
// Each NativeAOT binary should fit a small device's budget (issue 19): printed on every publish, with how far over
// the goal it is. With the SDK on the CI image (10.0.401, ILCompiler 10.0.12) the same source links ~6.5 MB larger
// than it did when the goal was first met (24.1 MB then, 30.6 MB now for that commit), so the goal is missed today
// (docs/BENCHMARKS.md "footprint": 31.1 MB x64, 31.8 MB arm64 after the second round of cuts); the hard failure,
// just above that, guards against further growth until the goal is won back.
const long BinaryBudgetBytes = 25L * 1000 * 1000;
const long BinaryCeilingBytes = 32_500_000L;
var releaseVersion = System.IO.File.ReadAllText("VERSION").Trim();
// What the release build needs beyond the SDK: clang/lld and Debian's aarch64 cross toolchain and sysroot for the
// arm64 NativeAOT link, qemu to smoke-test the arm64 binary (dpkg-deb comes with dpkg). THE one list for publishing.
var releaseTools = new[] { "clang", "lld", "gcc-aarch64-linux-gnu", "binutils-aarch64-linux-gnu", "libc6-dev-arm64-cross", "qemu-user-static" };

Task("ReleaseTools")
    .Description("Installs missing release build tools (releaseTools) with apt when running as root; otherwise says what to install.")
    .Does(() => InstallPackages("Release tools", releaseTools));

Task("Publish")
    .Description("NativeAOT binaries for linux-x64 and linux-arm64, size-checked and smoke-tested (arm64 under qemu), packed as artifacts/edgestream-VERSION-RID.tar.gz and artifacts/edgestream_VERSION_ARCH.deb.")
    .IsDependentOn("ReleaseTools")
    .Does(() =>
    {
        EnsureDirectoryExists("artifacts");
        foreach (var (rid, debArch) in releaseTargets)
        {
            var output = $"artifacts/publish/{rid}";
            CleanDirectory(output);
            var settings = new DotNetPublishSettings { Configuration = "Release", Runtime = rid, OutputDirectory = output };
            // linux-arm64 needs no extra properties: the SDK links with clang --target=aarch64-linux-gnu, which finds
            // the aarch64 libc, crt files and linker of Debian's cross toolchain (releaseTools) by itself.
            DotNetPublish("agent/EdgeStream.Agent.csproj", settings);

            var binary = $"{output}/edgestream";
            var size = new System.IO.FileInfo(binary).Length;
            Information($"{rid}: edgestream is {size / 1e6:F1} MB ({size} bytes; goal {BinaryBudgetBytes / 1e6:F0} MB, ceiling {BinaryCeilingBytes / 1e6:F0} MB)");
            if (size > BinaryBudgetBytes)
                Warning($"{rid}: edgestream is {(size - BinaryBudgetBytes) / 1e6:F1} MB over the {BinaryBudgetBytes / 1e6:F0} MB goal");
            if (size > BinaryCeilingBytes)
                throw new Exception($"{rid}: edgestream is {size / 1e6:F1} MB, {(size - BinaryCeilingBytes) / 1e6:F1} MB over the {BinaryCeilingBytes / 1e6:F0} MB ceiling");

            var runner = rid == "linux-arm64" ? "qemu-aarch64-static -L /usr/aarch64-linux-gnu" : "";
            if (StartProcess("bash", new ProcessSettings { Arguments = $"packaging/linux/smoke-test.sh {binary} {runner}", Timeout = 600_000 }) != 0)
                throw new Exception($"{rid}: smoke test failed");

            PackTarball(rid, binary);
            PackDeb(debArch, binary);
        }
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

void InstallPackages(string what, string[] packages)
{
    var missing = packages.Where(p => !IsInstalled(p)).ToList();
    if (missing.Count == 0)
    {
        Information($"{what}: all installed.");
        return;
    }
    if (!IsRoot())
    {
        Warning($"{what} missing: {string.Join(" ", missing)}.");
        Warning($"Install them with: sudo apt-get install -y {string.Join(" ", missing)}");
        Warning("Continuing: whatever needs a missing package fails with a message naming it.");
        return;
    }

    Information($"Installing {what.ToLowerInvariant()}: {string.Join(" ", missing)}");
    // No network, a slow mirror or one unknown package must not abort the run.
    if (Apt("update -qq", 300_000) != 0) Warning("apt-get update failed; trying to install from the current package lists.");
    if (Apt($"install -y -qq --no-install-recommends {string.Join(" ", missing)}", 900_000) != 0)
    {
        foreach (var p in missing)
            if (Apt($"install -y -qq --no-install-recommends {p}", 600_000) != 0) Warning($"Could not install {p}.");
    }
    var still = packages.Where(p => !IsInstalled(p)).ToList();
    if (still.Count > 0) Warning($"{what} still missing: {string.Join(" ", still)}; whatever needs them will fail naming them.");
}

// artifacts/edgestream-VERSION-RID.tar.gz: one directory with the binary, the default config, the unit and install.sh.
void PackTarball(string rid, string binary)
{
    var name = $"edgestream-{releaseVersion}-{rid}";
    var stage = $"artifacts/stage/{name}";
    CleanDirectory(stage);
    CopyFile(binary, $"{stage}/edgestream");
    foreach (var f in new[] { "config.json", "edgestream.service", "install.sh" }) CopyFile($"packaging/linux/{f}", $"{stage}/{f}");
    Chmod("755", $"{stage}/edgestream", $"{stage}/install.sh");
    Chmod("644", $"{stage}/config.json", $"{stage}/edgestream.service");
    Run("tar", $"--owner=0 --group=0 -czf artifacts/{name}.tar.gz -C artifacts/stage {name}");
    Information($"artifacts/{name}.tar.gz");
}

// artifacts/edgestream_VERSION_ARCH.deb, built by dpkg-deb from a staged tree: the binary in /usr/bin, the unit in
// /lib/systemd/system, the config as a conffile (dpkg keeps an edited one on upgrade).
void PackDeb(string debArch, string binary)
{
    var stage = $"artifacts/stage/deb-{debArch}";
    CleanDirectory(stage);
    EnsureDirectoryExists($"{stage}/DEBIAN");
    EnsureDirectoryExists($"{stage}/usr/bin");
    EnsureDirectoryExists($"{stage}/lib/systemd/system");
    EnsureDirectoryExists($"{stage}/etc/edgestream");
    CopyFile(binary, $"{stage}/usr/bin/edgestream");
    System.IO.File.WriteAllText($"{stage}/lib/systemd/system/edgestream.service",
        System.IO.File.ReadAllText("packaging/linux/edgestream.service").Replace("ExecStart=/usr/local/bin/edgestream ", "ExecStart=/usr/bin/edgestream "));
    CopyFile("packaging/linux/config.json", $"{stage}/etc/edgestream/config.json");
    var sizeKb = (new System.IO.FileInfo(binary).Length + 1023) / 1024 + 8;
    System.IO.File.WriteAllText($"{stage}/DEBIAN/control", System.IO.File.ReadAllText("packaging/linux/deb/control")
        .Replace("@VERSION@", releaseVersion).Replace("@ARCH@", debArch).Replace("@SIZE_KB@", sizeKb.ToString()));
    foreach (var f in new[] { "conffiles", "postinst", "prerm", "postrm" }) CopyFile($"packaging/linux/deb/{f}", $"{stage}/DEBIAN/{f}");
    Chmod("755", $"{stage}/usr/bin/edgestream", $"{stage}/DEBIAN/postinst", $"{stage}/DEBIAN/prerm", $"{stage}/DEBIAN/postrm");
    Chmod("644", $"{stage}/DEBIAN/control", $"{stage}/DEBIAN/conffiles", $"{stage}/lib/systemd/system/edgestream.service", $"{stage}/etc/edgestream/config.json");
    var deb = $"artifacts/edgestream_{releaseVersion}_{debArch}.deb";
    Run("dpkg-deb", $"--root-owner-group -Zxz --build {stage} {deb}");
    // Reads the package back: a malformed control file or tree fails here, not on a device.
    Run("dpkg-deb", $"--info {deb}");
    Run("dpkg-deb", $"--contents {deb}");
}

void Chmod(string mode, params string[] paths) => Run("chmod", $"{mode} {string.Join(" ", paths)}");

void Run(string tool, string arguments)
{
    var code = StartProcess(tool, new ProcessSettings { Arguments = arguments });
    if (code != 0) throw new Exception($"{tool} {arguments} exited with {code}");
}

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
