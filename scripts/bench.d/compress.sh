#!/usr/bin/env bash
# Compression latency per method (Qwen2.5-VL-7B shape, 2K/4K/8K tokens) with DCT and memory bounds.
set -euo pipefail
"$1" bench-compress --geometry qwen2.5-vl-7b --tokens 2048,4096,8192 --out results/bench/compress.json
