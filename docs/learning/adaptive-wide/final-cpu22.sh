#!/bin/sh
# Session 36, second version of fgd-adaptive-wide (cpu22's expert takes the cpu22 set): 42..51 once on the workloads nearest
# cpu22 (cpu20, cpu25; the default trace is always run) (run from the repo root). The output's provenance stamp, d58168a,
# has no Cpu22 set: the build was from an uncommitted tree (see final.sh).
nice -n 10 src/MasOrleans.Cli/bin/Release/net10.0/mas evaluate --nodes data/traces/openb/openb_node_list_gpu_node.csv --pods data/traces/openb/openb_pod_list_default.csv \
  --variants cpu20,cpu25 --baseline fgd --policy fgd-adaptive-wide --seed 42..51 --parallel 1 --output docs/learning/vs-fgd/fgd-adaptive-wide-cpu22-42-51.json
