#!/bin/bash
# Load-independent instructions per scheduling decision, with valgrind's callgrind.
# usage: tests/MasOrleans.Benchmarks/instruction-count.sh <policy> <nodes> [full]
# Runs the Release build's untimed "count" mode with 1 and 3 rounds of 1,000 decisions and prints
# (Ir(3) - Ir(1)) / 2,000, so cluster set-up and JIT cost cancel out. Under valgrind the JIT compiles many
# methods with MinOpts, so the counts overweight call overhead: compare builds, don't read them as native.
set -euo pipefail
policy=$1; nodes=$2; full=${3:-}
dll="$(dirname "$0")/bin/Release/net10.0/MasOrleans.Benchmarks.dll"
ir() {
  DOTNET_TieredCompilation=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    dotnet "$dll" count "$policy" "$nodes" "$1" $full 2>&1 | awk '/Collected/ {print $4}'
}
one=$(ir 1); three=$(ir 3)
echo "$policy nodes=$nodes ${full:-adaptive}: $(( (three - one) / 2000 )) instructions/decision"
