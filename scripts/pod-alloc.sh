#!/usr/bin/env bash
# Where a placed pod's allocations go in a silo: one silo as the e2e benchmark starts it (as scripts/pod-heap.sh), 10
# nodes, a warm-up of W pods, then an allocation trace (GC AllocationTick with stacks) while N more pods are POSTed
# with wrk and become Running; prints the sampled bytes per pod by type and by the first frame in our code.
#   scripts/pod-alloc.sh [N=6000] [W=1000] [SECONDS=30]   SILO_DLL=<other build's MasOrleans.Silo.dll> for another build
# Needs redis-server, wrk, jq, python3 and `dotnet tool install -g dotnet-trace`. The trace lasts SECONDS: the pods
# must be Running within it (the script says if not), and the silo's idle allocations in the rest are counted too.
set -euo pipefail
cd "$(dirname "$0")/.."
pods=${1:-6000}
warmup=${2:-1000}
seconds=${3:-30}
dll=$(realpath "${SILO_DLL:-src/MasOrleans.Silo/bin/Release/net10.0/MasOrleans.Silo.dll}")
trace=${TRACE:-$HOME/.dotnet/tools/dotnet-trace}
lua=$PWD/tests/MasOrleans.Benchmarks/EndToEnd/wrk-pods.lua
work=$(mktemp -d /tmp/pod-alloc.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port); http_port=$(free_port); silo_port=$(free_port); gateway_port=$(free_port)
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP_TRACE:-}" ] || rm -f "$work"/*.nettrace "$work"/*.etlx
  echo "work folder (logs, report): $work" >&2
  return "$rc"
}
trap cleanup EXIT
# Forgets a pid that has ended, that exact entry only (a ${pids[@]/$pid} substitution cuts it out of other pids too).
forget() { local kept=() p; for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done; pids=("${kept[@]}"); }
echo "silo build: $dll ($(date -u -r "$dll" '+%Y-%m-%d %H:%M:%S UTC'))"

# The report's reader is built before anything starts, so a build failure costs no run and `--no-build` below is this build.
dotnet build scripts/alloc-sites.cs -v q >"$work/alloc-sites.cs.build.log" || { cat "$work/alloc-sites.cs.build.log" >&2; echo "scripts/alloc-sites.cs does not build" >&2; exit 1; }

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
# As the e2e benchmark's silos (SiloCluster.StartAsync): zero simulated delays, Redis storage, no rate limit, Warning logs.
(cd "$(dirname "$dll")" && exec env ContainerRuntime__PullMilliseconds=0 ContainerRuntime__StartMilliseconds=0 \
  Storage__Provider=redis Redis__ConnectionString=127.0.0.1:$redis_port Orleans__ClusterId=pod-alloc-$$ \
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
    -d "{\"name\":\"alloc-node-$n\",\"capacity\":{\"cpu\":\"$cpus\",\"memory\":\"${mem}Mi\",\"pods\":\"$((cpus * 10))\"}}"
done

running() { curl -fs "$base/api/v1/cluster" | jq '.podsByPhase.Running // 0'; }
# POSTs <count> pods named <prefix>1.. with wrk-pods.lua and waits until <expected> pods are Running (as pod-heap.sh).
create() {
  local prefix=$1 count=$2 expected=$3
  : >"$work/wrk-$prefix.out"
  wrk -t1 -c16 -d600s --timeout 30s -s "$lua" "$base" -- "$prefix" "$count" 100m 128Mi >"$work/wrk-$prefix.out" 2>&1 &
  local wrk_pid=$!
  pids+=("$wrk_pid")
  local waited=0
  until grep -q quota-done "$work/wrk-$prefix.out"; do
    kill -0 "$wrk_pid" 2>/dev/null || { echo "wrk ended before its quota of $count pods: $(tail -3 "$work/wrk-$prefix.out")" >&2; exit 1; }
    [ "$waited" -lt 3000 ] || { echo "wrk did not finish its $count POSTs in 600 s" >&2; exit 1; }
    sleep 0.2; waited=$((waited + 1))
  done
  kill -INT "$wrk_pid"; wait "$wrk_pid" || true
  forget "$wrk_pid"
  grep -q "\"failed\":0," "$work/wrk-$prefix.out" || { echo "POSTs refused: $(tail -1 "$work/wrk-$prefix.out")" >&2; exit 1; }
  for _ in $(seq 1200); do [ "$(running)" -ge "$expected" ] && break; sleep 0.5; done
  [ "$(running)" -ge "$expected" ] || { echo "only $(running) of $expected pods Running" >&2; exit 1; }
}

create warm- "$warmup" "$warmup"
sleep 5
# AllocationTick (keyword 0x1, level 5) with its stacks; the rundown at the end names the methods.
"$trace" collect -p "$silo_pid" --providers Microsoft-Windows-DotNETRuntime:0x1:5 --duration "00:00:$seconds" \
  -o "$work/pods.nettrace" >"$work/trace.out" 2>&1 &
trace_pid=$!
pids+=("$trace_pid")
for _ in $(seq 100); do grep -q "Process" "$work/trace.out" 2>/dev/null && break; sleep 0.1; done
sleep 1
start=$(date +%s)
create pod- "$pods" "$total"
took=$(( $(date +%s) - start ))
[ "$took" -lt "$((seconds - 2))" ] || { echo "the pods took $took s, longer than the trace's $seconds s: raise SECONDS" >&2; exit 1; }
wait "$trace_pid"
forget "$trace_pid"
warnings=$(grep -c -E '^(warn|fail|crit):' "$work/silo.log" || true)
echo "pods $pods in $took s; silo warnings/errors $warnings"
dotnet run --no-build scripts/alloc-sites.cs -- "$work/pods.nettrace" "$pods" "${TOP:-15}" | tee "$work/report.md"
