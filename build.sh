#!/usr/bin/env bash
# EdgeStream build entry point.
#   ./build.sh [build]          restore and build everything (Release)
#   ./build.sh test             build, install missing test peers (as root), run every test project
#   ./build.sh run [-- ARGS]    build, then run the agent: `edgestream run ARGS` (defaults need no ARGS)
#   ./build.sh bench [-- ARGS]  build, then run a benchmark: edgestream-bench ARGS (default storage-append)
#   ./build.sh publish          release archives and .debs for linux-x64 and linux-arm64 under artifacts/
#   ./build.sh <CakeTarget> [cake options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

verb="${1:-build}"
[[ $# -gt 0 ]] && shift

cake() {
  dotnet tool restore >/dev/null
  dotnet cake build.cake "$@"
}

case "$verb" in
  build|Build)     cake --target=Build "$@" ;;
  test|Test)       cake --target=Test "$@" ;;
  restore|Restore) cake --target=Restore "$@" ;;
  publish|Publish) cake --target=Publish "$@" ;;
  bench|Bench)
    [[ "${1:-}" == "--" ]] && shift
    if [[ $# -gt 0 ]]; then cake --target=Bench --bench-args="$*"; else cake --target=Bench; fi
    ;;
  run|Run)
    [[ "${1:-}" == "--" ]] && shift
    cake --target=Build
    # exec, so Ctrl-C and SIGTERM go straight to the agent and it shuts down cleanly.
    exec dotnet agent/bin/Release/net10.0/edgestream.dll run "$@"
    ;;
  -h|--help|help)  sed -n '2,9p' "$0" ;;
  *)               cake --target="$verb" "$@" ;;
esac
