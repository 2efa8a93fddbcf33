# One silo as the e2e benchmark starts it, on its own redis-server, loaded with wrk: what scripts/pod-heap.sh and
# scripts/pod-alloc.sh share. Sourced after the caller sets `work` (its folder), `dll` (the silo build), `name` (the
# cluster id's prefix), `cleanup_files` (globs under $work its trap removes) and KEEP_FILES (non-empty: keep them).
lua=$PWD/tests/MasOrleans.Benchmarks/EndToEnd/wrk-pods.lua
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port); http_port=$(free_port); silo_port=$(free_port); gateway_port=$(free_port)
base=http://127.0.0.1:$http_port
pids=()
# Where the logs are, on success or failure: the silo's, redis-server's and wrk's, and the reports.
cleanup() {
  local rc=$? p
  for p in "${pids[@]}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  # shellcheck disable=SC2086 # the globs are meant to expand
  [ -n "${KEEP_FILES:-}" ] || (cd "$work" && rm -f $cleanup_files) || true
  echo "work folder (logs, reports): $work" >&2
  return "$rc"
}
trap cleanup EXIT
# Forgets a pid that has ended, that exact entry only (a ${pids[@]/$pid} substitution cuts it out of other pids too).
forget() { local kept=() p; for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done; pids=("${kept[@]}"); }

# Builds a report's reader (a file-based program under scripts/) before anything starts, so a build failure costs no run
# and the `dotnet run --no-build` that reads the results is this build.
build_reader() {
  dotnet build "scripts/$1" -v q --disable-build-servers >"$work/$1.build.log" || { cat "$work/$1.build.log" >&2; echo "scripts/$1 does not build" >&2; exit 1; }
}

# redis-server and the silo; `silo_pid` is the silo's. As the e2e benchmark's silos (SiloCluster.StartAsync): zero
# simulated delays, Redis storage, no rate limit, Warning logs.
start_silo() {
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" &
  pids+=($!)
  (cd "$(dirname "$dll")" && exec env ContainerRuntime__PullMilliseconds=0 ContainerRuntime__StartMilliseconds=0 \
    Storage__Provider=redis Redis__ConnectionString=127.0.0.1:$redis_port Orleans__ClusterId=$name-$$ \
    Orleans__AdvertisedIP=127.0.0.1 Orleans__SiloPort=$silo_port Orleans__GatewayPort=$gateway_port \
    RateLimiting__Enabled=false Logging__LogLevel__Default=Warning \
    dotnet "$dll" --urls "$base" >"$work/silo.log" 2>&1) &
  pids+=($!)
  silo_pid=$!
  local _
  for _ in $(seq 600); do curl -fs "$base/health" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "$base/health" >/dev/null || { echo "silo not healthy; log: $work/silo.log" >&2; exit 1; }
}

# Ten nodes with room for <pods> pods of 100m and 128Mi.
add_nodes() {
  local total=$1 n cpus mem
  cpus=$(( (total / 10 + 9) / 10 * 2 + 1 )); mem=$(( total * 128 * 2 / 10 + 1024 ))
  for n in $(seq -w 0 9); do
    curl -fs -o /dev/null -H 'Content-Type: application/json' "$base/api/v1/nodes" \
      -d "{\"name\":\"$name-node-$n\",\"capacity\":{\"cpu\":\"$cpus\",\"memory\":\"${mem}Mi\",\"pods\":\"$((cpus * 10))\"}}"
  done
}

running() { curl -fs "$base/api/v1/cluster" | jq '.podsByPhase.Running // 0'; }

# POSTs <count> pods named <prefix>1.. with wrk-pods.lua, as the e2e benchmark does, then waits until <expected> pods
# are Running.
create() {
  local prefix=$1 count=$2 expected=$3 _
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
}

silo_warnings() { grep -c -E '^(warn|fail|crit):' "$work/silo.log" || true; }
