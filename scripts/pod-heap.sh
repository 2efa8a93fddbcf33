#!/usr/bin/env bash
# What a placed pod keeps alive in a silo: one silo on its own redis-server, 10 nodes, a warm-up of W pods, a gcdump,
# N more pods (wrk, as the e2e benchmark POSTs them), Running, a settle, a second gcdump; prints the live bytes and
# objects per pod, by type, of the second dump minus the first (dotnet-gcdump report: each type's own bytes).
#   scripts/pod-heap.sh [N=3000] [W=500]      SILO_DLL=<other build's MasOrleans.Silo.dll> to measure another build
# Needs redis-server, wrk, jq, python3 and `dotnet tool install -g dotnet-gcdump`. Heap bytes, not timing: load-proof.
set -euo pipefail
cd "$(dirname "$0")/.."
pods=${1:-3000}
warmup=${2:-500}
dll=$(realpath "${SILO_DLL:-src/MasOrleans.Silo/bin/Release/net10.0/MasOrleans.Silo.dll}")
gcdump=${GCDUMP:-$HOME/.dotnet/tools/dotnet-gcdump}
lua=$PWD/tests/MasOrleans.Benchmarks/EndToEnd/wrk-pods.lua
work=$(mktemp -d /tmp/pod-heap.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port); http_port=$(free_port); silo_port=$(free_port); gateway_port=$(free_port)
pids=()
# Where the logs are, on success or failure: the silo's, redis-server's and wrk's, and the reports.
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP_DUMPS:-}" ] || rm -f "$work"/*.gcdump
  echo "work folder (logs, reports): $work" >&2
  return "$rc"
}
trap cleanup EXIT
# Forgets a pid that has ended, that exact entry only (a ${pids[@]/$pid} substitution cuts it out of other pids too).
forget() { local kept=() p; for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done; pids=("${kept[@]}"); }
# Which build this measures: the silo dll and when it was built, and the checkout's commit when run from a repository.
echo "silo build: $dll ($(date -u -r "$dll" '+%Y-%m-%d %H:%M:%S UTC'))"
if [ -n "${SILO_DLL:-}" ]; then echo "checkout: not this one (SILO_DLL names the build)"
else echo "checkout: $(git rev-parse HEAD 2>/dev/null || echo 'not a git repository')$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"; fi

# The report's reader is built before anything starts, so a build failure costs no run and `--no-build` below is this build.
dotnet build scripts/gcdump-types.cs -v q >"$work/gcdump-types.cs.build.log" || { cat "$work/gcdump-types.cs.build.log" >&2; echo "scripts/gcdump-types.cs does not build" >&2; exit 1; }

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
# As the e2e benchmark's silos (SiloCluster.StartAsync): zero simulated delays, Redis storage, no rate limit, Warning logs.
(cd "$(dirname "$dll")" && exec env ContainerRuntime__PullMilliseconds=0 ContainerRuntime__StartMilliseconds=0 \
  Storage__Provider=redis Redis__ConnectionString=127.0.0.1:$redis_port Orleans__ClusterId=pod-heap-$$ \
  Orleans__AdvertisedIP=127.0.0.1 Orleans__SiloPort=$silo_port Orleans__GatewayPort=$gateway_port \
  RateLimiting__Enabled=false Logging__LogLevel__Default=Warning \
  dotnet "$dll" --urls "http://127.0.0.1:$http_port" >"$work/silo.log" 2>&1) &
pids+=($!)
silo_pid=$!
base=http://127.0.0.1:$http_port
for _ in $(seq 600); do curl -fs "$base/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$base/health" >/dev/null || { echo "silo not healthy; log: $work/silo.log" >&2; exit 1; }

total=$((pods + warmup))
cpus=$(( (total / 10 + 9) / 10 * 2 + 1 )); mem=$(( total * 128 * 2 / 10 + 1024 ))
for n in $(seq -w 0 9); do
  curl -fs -o /dev/null -H 'Content-Type: application/json' "$base/api/v1/nodes" \
    -d "{\"name\":\"heap-node-$n\",\"capacity\":{\"cpu\":\"$cpus\",\"memory\":\"${mem}Mi\",\"pods\":\"$((cpus * 10))\"}}"
done

running() { curl -fs "$base/api/v1/cluster" | jq '.podsByPhase.Running // 0'; }
# POSTs <count> pods named <prefix>1.. with wrk-pods.lua, then waits until <expected> pods are Running and 10 s more
# (one-way reports, timers and the Running write's tail have finished).
create() {
  local prefix=$1 count=$2 expected=$3
  : >"$work/wrk-$prefix.out"
  wrk -t1 -c16 -d600s --timeout 30s -s "$lua" "$base" -- "$prefix" "$count" 100m 128Mi >"$work/wrk-$prefix.out" 2>&1 &
  local wrk_pid=$!
  pids+=("$wrk_pid")
  # wrk stops only at -d: wait for the script's own end of its quota, at most as long as -d.
  local waited=0
  until grep -q quota-done "$work/wrk-$prefix.out"; do
    kill -0 "$wrk_pid" 2>/dev/null || { echo "wrk ended before its quota of $count pods: $(tail -3 "$work/wrk-$prefix.out")" >&2; exit 1; }
    [ "$waited" -lt 3000 ] || { echo "wrk did not finish its $count POSTs in 600 s" >&2; exit 1; }
    sleep 0.2; waited=$((waited + 1))
  done
  kill -INT "$wrk_pid"; wait "$wrk_pid" || true
  # Reaped: its pid may be another process's by the time cleanup runs.
  forget "$wrk_pid"
  grep -q "\"failed\":0," "$work/wrk-$prefix.out" || { echo "POSTs refused: $(tail -1 "$work/wrk-$prefix.out")" >&2; exit 1; }
  for _ in $(seq 1200); do [ "$(running)" -ge "$expected" ] && break; sleep 0.5; done
  [ "$(running)" -ge "$expected" ] || { echo "only $(running) of $expected pods Running" >&2; exit 1; }
  sleep 10
}
# The newest installed version's reader (a version sort: 10.0.0 after 9.0.1).
tool_dll=$( (ls "$(dirname "$gcdump")"/.store/dotnet-gcdump/*/dotnet-gcdump/*/tools/*/any/dotnet-gcdump.dll 2>/dev/null || true) | sort -V | tail -1)
[ -n "$tool_dll" ] || { echo "no dotnet-gcdump.dll under $(dirname "$gcdump")/.store" >&2; exit 1; }
echo "gcdump reader: $tool_dll"
# A gcdump (it collects first) and its bytes and objects per type (gcdump-types.cs: the report's own sizes are one object's).
report() {
  "$gcdump" collect -p "$silo_pid" -o "$work/$1.gcdump" >/dev/null
  dotnet run --no-build scripts/gcdump-types.cs -- "$tool_dll" "$work/$1.gcdump" >"$work/$1.txt"
}

create warm- "$warmup" "$warmup"
report before
create pod- "$pods" "$total"
report after

warnings=$(grep -c -E '^(warn|fail|crit):' "$work/silo.log" || true)
python3 - "$work/before.txt" "$work/after.txt" "$pods" "$warnings" <<'PY'
import re, sys
def read(path):
    # gcdump-types.cs lines: bytes, objects, type; a type's size classes ("System.Byte[] (Bytes > 1K)") counted as one.
    types = {}
    for line in open(path):
        b, c, t = line.rstrip('\n').split('\t', 2)
        t = re.sub(r' \(Bytes > [^)]*\)', '', t)
        ob, oc = types.get(t, (0, 0)); types[t] = (ob + int(b), oc + int(c))
    return types
before, after, pods, warnings = read(sys.argv[1]), read(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
diff = {t: (after.get(t, (0, 0))[0] - before.get(t, (0, 0))[0], after.get(t, (0, 0))[1] - before.get(t, (0, 0))[1]) for t in set(before) | set(after)}
total = sum(b for b, _ in diff.values()); objects = sum(c for _, c in diff.values())
print(f"pods {pods}; live heap per pod {total / pods:,.0f} bytes in {objects / pods:.1f} objects; silo warnings/errors {warnings}")
print(f"| Bytes per pod | Objects per pod | Type |\n|---:|---:|---|")
for t, (b, c) in sorted(diff.items(), key=lambda d: -d[1][0])[:25]:
    print(f"| {b / pods:,.0f} | {c / pods:.2f} | `{t}` |")
PY
echo "reports kept in $work (before.txt, after.txt, silo.log, wrk-*.out)"
