#!/usr/bin/env bash
# The embedded demo behind `make run`: the trained organism (assets/organism, a small Qwen2.5-VL
# made by `kvbench train-organism`) on the needle retrieval tasks, every registered method at
# rho in {1, 0.5, 0.2, 0.1}, its tables, then plots.
set -euo pipefail
cd "$(dirname "$0")/.."
KVB=$(realpath "${1:-build/kvbench}")
"$KVB" run --config configs/experiments/demo.json  # ends with the tables
"$KVB" plot --experiment demo
