#!/usr/bin/env bash
# Regenerates tests/parity/llava/goldens with HF transformers on this CPU (../shared/tools/hf-cpu:
# run its setup.sh once) and transformers.js for the token ids (scripts/setup.sh fetched it).
# Usage: bash tests/parity/llava/make_goldens.sh [build/kvbench]
. "$(dirname "$0")/../make_goldens_env.sh"
make_tiny llava 11
rm -rf tests/parity/llava/goldens
$PY tests/parity/llava/make_goldens.py --model "$tmp/tiny" --out tests/parity/llava/goldens
du -sh tests/parity/llava/goldens
