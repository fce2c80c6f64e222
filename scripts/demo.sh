#!/usr/bin/env bash
# The embedded demo behind `make run`: tiny random Qwen2.5-VL checkpoint + synthetic needle
# benchmark, every registered method at rho in {1, 0.5, 0.2, 0.1}, its tables, then plots.
set -euo pipefail
cd "$(dirname "$0")/.."
KVB=$(realpath "${1:-build/kvbench}")
[ -f models/tiny-qwen2.5-vl/config.json ] || "$KVB" make-tiny-model --out models/tiny-qwen2.5-vl
"$KVB" run --config configs/experiments/demo.json  # ends with the tables
"$KVB" plot --experiment demo
