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
work=$(mktemp -d /tmp/pod-heap.XXXXXX)
name=pod-heap
# The dumps are large: removed at the end unless KEEP_DUMPS is set.
cleanup_files='*.gcdump'
KEEP_FILES=${KEEP_DUMPS:-}
. scripts/lib/one-silo.sh
# Which build this measures: the silo dll and when it was built, and the checkout's commit when run from a repository.
echo "silo build: $dll ($(date -u -r "$dll" '+%Y-%m-%d %H:%M:%S UTC'))"
if [ -n "${SILO_DLL:-}" ]; then echo "checkout: not this one (SILO_DLL names the build)"
else echo "checkout: $(git rev-parse HEAD 2>/dev/null || echo 'not a git repository')$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"; fi

build_reader gcdump-types.cs
start_silo
total=$((pods + warmup))
add_nodes "$total"

# The newest installed version's reader (a version sort: 10.0.0 after 9.0.1).
tool_dll=$( (ls "$(dirname "$gcdump")"/.store/dotnet-gcdump/*/dotnet-gcdump/*/tools/*/any/dotnet-gcdump.dll 2>/dev/null || true) | sort -V | tail -1)
[ -n "$tool_dll" ] || { echo "no dotnet-gcdump.dll under $(dirname "$gcdump")/.store" >&2; exit 1; }
echo "gcdump reader: $tool_dll"
# A gcdump (it collects first) and its bytes and objects per type (gcdump-types.cs: the report's own sizes are one object's).
report() {
  "$gcdump" collect -p "$silo_pid" -o "$work/$1.gcdump" >/dev/null
  dotnet run --no-build scripts/gcdump-types.cs -- "$tool_dll" "$work/$1.gcdump" >"$work/$1.txt"
}

# After each batch, 10 s more: one-way reports, timers and the Running write's tail have finished.
create warm- "$warmup" "$warmup"; sleep 10
report before
create pod- "$pods" "$total"; sleep 10
report after

warnings=$(silo_warnings)
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
