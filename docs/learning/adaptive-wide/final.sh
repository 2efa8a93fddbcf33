#!/bin/sh
# Session 36: fgd-adaptive-wide and fgd-adaptive against fgd at 42..51, run once, on every judged workload whose nearest
# wide expert differs from fgd-adaptive's (and default and cpu050, whose weights do not change, as a check), the late
# held-out five and the fresh held-out six (run from the repo root). This ran the first version (cpu22's expert with
# near-default's set); its output was named fgd-adaptive-wide-42-51.json and renamed -v1- since (the "command" inside still
# says the old name), as its cpu20 and cpu25 rows are not the shipped policy's (final-cpu22.sh has those).
# Provenance: the "tool" stamps in both JSON files name the commit the build started from, not the code that ran: the
# trees were uncommitted. At 1fccfde (this file's stamp) share54's expert takes run 8's set and there is no Share54 set;
# at d58168a (final-cpu22's) there is no Cpu22 set. The shipped code is what AdaptiveWideTests pin.
nice -n 10 src/MasOrleans.Cli/bin/Release/net10.0/mas evaluate --nodes data/traces/openb/openb_node_list_gpu_node.csv --pods data/traces/openb/openb_pod_list_default.csv \
  --trace data/traces/openb/openb_pod_list_gpushare40.csv --trace data/traces/openb/openb_pod_list_gpuspec10.csv --trace data/traces/openb/openb_pod_list_cpu050.csv \
  --variants cpu20,spec15,share58,cpu25,mix-late,share61,multi5,cpu35,spec12,mix-fresh1,mix-fresh2 \
  --baseline fgd --policy fgd-adaptive-wide --policy fgd-adaptive --seed 42..51 --parallel 1 --output docs/learning/vs-fgd/fgd-adaptive-wide-v1-42-51.json
