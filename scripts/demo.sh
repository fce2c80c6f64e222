#!/usr/bin/env bash
# The embedded demo behind `make run`: the committed organism (a small trained Qwen2.5-VL,
# models/organism) on the synthetic needle tasks, every registered method at rho in
# {1, 0.5, 0.2, 0.1}, its tables, then plots.
set -euo pipefail
cd "$(dirname "$0")/.."
KVB=$(realpath "${1:-build/kvbench}")
[ -f models/organism/config.json ] || {
  echo "demo: models/organism is missing; it is committed (git checkout -- models/organism), or retrain it" \
       "with: $KVB train-organism --out models/organism" >&2
  exit 1
}
"$KVB" run --config configs/experiments/demo.json  # ends with the tables
"$KVB" plot --experiment demo
