#!/usr/bin/env bash
# Regenerates tests/parity/qwen/goldens with HF transformers on this CPU (../shared/tools/hf-cpu:
# run its setup.sh once). Usage: bash tests/parity/qwen/make_goldens.sh [build/kvbench]
set -euo pipefail
cd "$(dirname "$0")/../../.."
KVBENCH=${1:-build/kvbench}
HFTOOLS=${HFTOOLS:-$(cd .. && pwd)/shared/tools/hf-cpu}
. "$HFTOOLS/env.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$KVBENCH" make-tiny-model --family qwen2_5_vl --seed 7 --out "$tmp/tiny"
$PY "$HFTOOLS/make_slow_tok_dir.py" "$tmp/tiny" "$tmp/tiny_slow"
rm -rf tests/parity/qwen/goldens
$PY "$HFTOOLS/run_make_goldens.py" --script tests/parity/qwen/make_goldens.py \
  --model "$tmp/tiny_slow" --checkpoint "$tmp/tiny" --out tests/parity/qwen/goldens
du -sh tests/parity/qwen/goldens
