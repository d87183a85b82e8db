#!/usr/bin/env bash
# Smoke test of a published edgestream binary, run by `./build.sh publish` for every target:
#   smoke-test.sh BINARY [RUNNER...]     e.g. smoke-test.sh artifacts/publish/linux-arm64/edgestream qemu-aarch64-static -L /usr/aarch64-linux-gnu
# `edgestream version`, then a node on free loopback ports, one record produced and consumed back with the
# built-in client, SIGTERM, and exit code 0. Slow under emulation, so every wait is generous but bounded.
set -euo pipefail
binary=$1; shift
runner=("$@")
es() { "${runner[@]}" "$binary" "$@"; }

work=$(mktemp -d)
node_pid=
cleanup() {
  [[ -n "$node_pid" ]] && kill -KILL "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "smoke test of $binary: $*" >&2; [[ -f "$work/node.log" ]] && tail -n 30 "$work/node.log" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=$(free_port); kafka=$(free_port); mqtt=$(free_port); gossip=$(free_port)

version=$(es version) || fail "version failed"
echo "$version"
[[ "$version" == "edgestream "* ]] || fail "unexpected version output: $version"

# Started directly, not through es(): `$!` must be the node (or qemu running it, which passes signals on).
"${runner[@]}" "$binary" run --data "$work/data" --http "127.0.0.1:$http" --kafka "127.0.0.1:$kafka" --mqtt "127.0.0.1:$mqtt" \
   --gossip "127.0.0.1:$gossip" --mdns off >"$work/node.log" 2>&1 &
node_pid=$!

# Ready when the built-in client can list topics (no curl needed); up to 120 s under emulation.
for _ in $(seq 1 240); do
  kill -0 "$node_pid" 2>/dev/null || fail "node exited before it was ready"
  es topics list --bootstrap "127.0.0.1:$kafka" >/dev/null 2>&1 && break
  sleep 0.5
done
es topics list --bootstrap "127.0.0.1:$kafka" >/dev/null 2>&1 || fail "node not ready after 120 s"

es produce smoke -m "hello from the smoke test" --bootstrap "127.0.0.1:$kafka" || fail "produce failed"
got=$(es consume smoke --from-beginning -n 1 --timeout 60s --bootstrap "127.0.0.1:$kafka") || fail "consume failed"
[[ "$got" == *"hello from"* ]] || fail "consumed '$got', expected the produced record"
echo "consumed: $got"

kill -TERM "$node_pid"
code=0
wait "$node_pid" || code=$?
node_pid=
[[ $code -eq 0 ]] || fail "node exited with $code after SIGTERM"
echo "smoke test of $binary: ok"
