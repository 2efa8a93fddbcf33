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
work=$(mktemp -d /tmp/pod-alloc.XXXXXX)
name=pod-alloc
# The trace is large: removed at the end unless KEEP_TRACE is set.
cleanup_files='*.nettrace *.etlx'
KEEP_FILES=${KEEP_TRACE:-}
. scripts/lib/one-silo.sh
echo "silo build: $dll ($(date -u -r "$dll" '+%Y-%m-%d %H:%M:%S UTC'))"

build_reader alloc-sites.cs
start_silo
total=$((pods + warmup))
add_nodes "$total"

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
warnings=$(silo_warnings)
echo "pods $pods in $took s; silo warnings/errors $warnings"
dotnet run --no-build scripts/alloc-sites.cs -- "$work/pods.nettrace" "$pods" "${TOP:-15}" | tee "$work/report.md"
