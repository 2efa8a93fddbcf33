#!/bin/sh
# Session 36: each weight set (fgd-adaptive's four, then share54's from search.sh and cpu22's from search-cpu22.sh, run as SETS=share54 and SETS=cpu22) on the near-family variants at the assignment seeds 1010..1014 (run from the repo root).
MAS=src/MasOrleans.Cli/bin/Release/net10.0/mas
for set in ${SETS:-learned neardefault run5 run8 share54 cpu22}; do
  nice -n 10 $MAS evaluate --nodes data/traces/openb/openb_node_list_gpu_node.csv --pods data/traces/openb/openb_pod_list_default.csv \
    --variants near-families --baseline fgd --policy fgd-learned $(cat docs/learning/adaptive-wide/settings-$set.txt) \
    --seed 1010..1014 --parallel 1 --output docs/learning/adaptive-wide/assign-$set.json > docs/learning/adaptive-wide/assign-$set.txt 2>/tmp/p2-assign-$set.err
done
