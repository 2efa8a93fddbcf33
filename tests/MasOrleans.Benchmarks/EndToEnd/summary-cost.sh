#!/bin/bash
# summary-cost.sh SILO_DLL PORT [PODS]: one silo on its own redis-server (ports PORT..PORT+3), PODS pods (default
# 20000) on 10 nodes through wrk, then GET /api/v1/cluster for 10 s: requests/s and silo CPU ms per request (the silo's
# idle CPU subtracted, from /proc). Run it for two builds one after the other to compare them (docs/benchmarks.md).
set -e
here=$(cd "$(dirname "$0")" && pwd)
dll=$(realpath "$1"); base=$2; pods=${3:-20000}
d=/tmp/sumbench-$base; rm -rf $d; mkdir -p $d
redis-server --port $((base+1)) --bind 127.0.0.1 --save "" --appendonly no --dir $d --daemonize yes --pidfile $d/redis.pid --logfile $d/redis.log
sleep 0.5
cd $(dirname $dll)
Storage__Provider=redis Redis__ConnectionString=127.0.0.1:$((base+1)) Orleans__ClusterId=sum$base Orleans__AdvertisedIP=127.0.0.1 \
 Orleans__SiloPort=$((base+2)) Orleans__GatewayPort=$((base+3)) RateLimiting__Enabled=false Logging__LogLevel__Default=Warning \
 ContainerRuntime__PullMilliseconds=0 ContainerRuntime__StartMilliseconds=0 \
 setsid dotnet $dll --urls http://127.0.0.1:$base > $d/silo.log 2>&1 &
pid=$!
# Stop the silo (its process group) and the redis-server however the script ends.
trap 'kill -TERM -$pid 2>/dev/null || true; kill $(cat $d/redis.pid) 2>/dev/null || true' EXIT
for i in $(seq 1 120); do curl -sf http://127.0.0.1:$base/health >/dev/null && break; sleep 1; done
for n in $(seq 0 9); do curl -sf -o /dev/null -H 'Content-Type: application/json' -d "{\"name\":\"n$n\",\"capacity\":{\"cpu\":\"400\",\"memory\":\"600Gi\",\"pods\":\"4000\"}}" http://127.0.0.1:$base/api/v1/nodes; done
wrk -t1 -c16 -d120s -s "$here/wrk-pods.lua" http://127.0.0.1:$base -- p $pods 100m 128Mi >/dev/null 2>&1 &
wpid=$!
# Stop the silo (its process group) and the redis-server however the script ends.
trap 'kill -TERM -$pid 2>/dev/null || true; kill $(cat $d/redis.pid) 2>/dev/null || true' EXIT
for i in $(seq 1 300); do
  r=$(curl -s http://127.0.0.1:$base/api/v1/cluster | python3 -c 'import sys,json; print(json.load(sys.stdin)["podsByPhase"].get("Running",0))')
  [ "$r" -ge "$pods" ] && break; sleep 1; done
kill -INT $wpid 2>/dev/null || true; wait $wpid 2>/dev/null || true
sleep 8
tick=$(getconf CLK_TCK)
cpu() { awk -v t=$tick '{print ($14+$15)*1000/t}' /proc/$pid/stat; }
c0=$(cpu); sleep 5; c1=$(cpu)
idle=$(python3 -c "print(($c1-$c0)/5)")
path=/api/v1/cluster
c0=$(cpu)
out=$(wrk -t1 -c2 -d10s http://127.0.0.1:$base$path)
c1=$(cpu)
reqs=$(echo "$out" | awk '/^Requests\/sec/{print $2}')
python3 -c "r=$reqs; c=($c1-$c0)-$idle*10; print(f'$path: running=$r pods; {r:.0f} req/s; silo CPU {c/(r*10):.3f} ms per request (idle {float($idle):.0f} ms/s subtracted)')"
