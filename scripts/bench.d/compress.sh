#!/usr/bin/env bash
# Compression latency per method (Qwen2.5-VL-7B shape, 2K/4K/8K tokens, all cores) with DCT,
# memory-pass and window-GEMM bounds. Passive OpenMP waiting: on a shared machine, spinning
# workers that lose their core turn every barrier into a scheduler time slice (20x slowdowns).
set -euo pipefail
mkdir -p results/bench
OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" "$1" bench-compress --geometry qwen2.5-vl-7b --tokens 2048,4096,8192 \
  --out results/bench/compress.json
