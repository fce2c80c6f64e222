#!/usr/bin/env bash
# Image preprocessing speed (decode-free synthetic HR-Bench-sized images): PIL-exact bicubic
# resize + normalise + patchify, with Qwen2.5-VL's published max_pixels (12845056).
set -euo pipefail
KVB=$1
out=results/bench/vision.json
mkdir -p results/bench
{
  echo "{\"machine\": \"$(nproc) cores\", \"runs\": ["
  first=1
  for size in 2160x3840 4320x7680 480x640; do
    [ $first = 1 ] || echo ","
    first=0
    r=$("$KVB" preprocess --synthetic "$size" --max-pixels 12845056 --repeat 3 --json)
    echo "{\"image\": \"$size\", \"result\": $r}"
  done
  echo "]}"
} > "$out"
echo "wrote $out"
