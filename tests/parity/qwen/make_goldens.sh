#!/usr/bin/env bash
# Regenerates tests/parity/qwen/goldens with HF transformers on this CPU (../shared/tools/hf-cpu:
# run its setup.sh once). Usage: bash tests/parity/qwen/make_goldens.sh [build/kvbench]
. "$(dirname "$0")/../make_goldens_env.sh"
make_tiny qwen2_5_vl 7 slow
rm -rf tests/parity/qwen/goldens
$PY "$HFTOOLS/run_make_goldens.py" --script tests/parity/qwen/make_goldens.py \
  --model "$tmp/tiny_slow" --checkpoint "$tmp/tiny" --out tests/parity/qwen/goldens
du -sh tests/parity/qwen/goldens
