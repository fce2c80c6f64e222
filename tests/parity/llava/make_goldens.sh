#!/usr/bin/env bash
# Regenerates tests/parity/llava/goldens with HF transformers on this CPU (../shared/tools/hf-cpu:
# run its setup.sh once) and transformers.js for the token ids (scripts/setup.sh fetched it).
# Usage: bash tests/parity/llava/make_goldens.sh [build/kvbench]
set -euo pipefail
cd "$(dirname "$0")/../../.."
KVBENCH=${1:-build/kvbench}
HFTOOLS=${HFTOOLS:-$(cd .. && pwd)/shared/tools/hf-cpu}
. "$HFTOOLS/env.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$KVBENCH" make-tiny-model --family llava --seed 11 --out "$tmp/tiny"
rm -rf tests/parity/llava/goldens
$PY tests/parity/llava/make_goldens.py --model "$tmp/tiny" --out tests/parity/llava/goldens
du -sh tests/parity/llava/goldens
