#!/usr/bin/env bash
# Issue 16's before/after of the CPU compression paths, on one binary and robust to a loaded
# shared machine: process CPU time with one thread (--threads 1 --clock cpu, OpenBLAS single-
# threaded), the previous paths switched back on by environment (KVB_DCT_ALGO=legacy: single-row
# FFTW_ESTIMATE REDFT plans) against the defaults (the DCT round trip fused per column block).
# Writes results/bench/compress_ab_{before,after}.json and compress_ab.md (scripts/bench_compare.py).
set -euo pipefail
mkdir -p results/bench
export OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=1
ARGS=(bench-compress --geometry qwen2.5-vl-7b --tokens 2048,4096,8192 --methods flashcache,snapkv,pyramidkv,adakv
      --repeats "${KVB_AB_REPEATS:-3}" --threads 1 --clock cpu)
"$1" "${ARGS[@]}" --out results/bench/compress_ab_after.json
KVB_DCT_ALGO=legacy "$1" "${ARGS[@]}" --out results/bench/compress_ab_before.json
python3 scripts/bench_compare.py results/bench/compress_ab_before.json results/bench/compress_ab_after.json \
  --md results/bench/compress_ab.md
