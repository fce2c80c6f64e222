#!/usr/bin/env bash
# Regenerates tests/parity/llava_onevision/goldens with HF transformers on this CPU
# (../shared/tools/hf-cpu: run its setup.sh once). The tokenizer is HF's slow Qwen2Tokenizer
# (vocab.json/merges.txt extracted from the checkpoint's tokenizer.json by make_slow_tok_dir.py).
# Usage: bash tests/parity/llava_onevision/make_goldens.sh [build/kvbench]
. "$(dirname "$0")/../make_goldens_env.sh"
make_tiny llava_onevision 13 slow
rm -rf tests/parity/llava_onevision/goldens
$PY tests/parity/llava_onevision/make_goldens.py --model "$tmp/tiny_slow" --checkpoint "$tmp/tiny" \
  --real-config "$HFTOOLS/../../reference/hf/llava-onevision-qwen2-7b-ov-hf" --out tests/parity/llava_onevision/goldens
du -sh tests/parity/llava_onevision/goldens
