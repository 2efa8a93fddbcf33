#!/usr/bin/env bash
# Installs what is missing (Redis, the libstdc++ TorchSharp needs), builds with warnings as errors,
# and runs every test project. Prints one closing line: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build MasOrleans.sln -c Release -warnaserror 2>&1 | tail -3
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "build failed"; exit 1; }
log=$(mktemp)
# Normal verbosity: a fixture's failure at its end (a shared silo's log check) is printed with its message only there.
dotnet test MasOrleans.sln -c Release --no-build --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# CI shows only the end of this output: repeat each failed test's name and the start of its message here.
awk '/^  Failed [^ ]/ { name = substr($0, 10); sub(/ \[[^]]*\]$/, "", name); lines = 0; grab = 0; next }
     name != "" && /^  Error Message:/ { print "FAILED " name; grab = 1; next }
     grab && (/^  Stack Trace:/ || lines >= 12) { grab = 0; name = ""; next }
     grab { print "  " substr($0, 1, 300); lines++ }' "$log"
# A fixture that fails as it ends (xunit's "Test Class/Collection Cleanup Failure") fails no test, yet fails the run:
# repeat it with its message, and count it as a failure.
awk '/\[Test (Class|Collection|Assembly) Cleanup Failure/ { sub(/^\[xUnit.net [^]]*\] */, ""); print "FAILED " $0; grab = 1; lines = 0; next }
     grab && (/Stack Trace:/ || lines >= 12 || !/^\[xUnit.net/) { grab = 0; next }
     grab { sub(/^\[xUnit.net [^]]*\] */, ""); print "  " substr($0, 1, 300); lines++ }' "$log"
# Sum dotnet test's per-assembly totals into one line that CI can read.
awk '/^ +Passed: [0-9]+$/ { p += $2 } /^ +Failed: [0-9]+$/ { f += $2 } /^ +Skipped: [0-9]+$/ { s += $2 }
     /\[Test (Class|Collection|Assembly) Cleanup Failure/ { f++ }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
