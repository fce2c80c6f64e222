#!/usr/bin/env bash
# Tokenizer throughput: `kvbench tokenize` against transformers.js (@lenml/tokenizers) on the same
# generated 10 MB mixed corpus, in the same run; also checks that both give identical ids.
# Usage: scripts/bench.d/tokenizer.sh KVBENCH_BINARY  -> results/bench/tokenizer.json
set -euo pipefail
cd "$(dirname "$0")/../.."
node scripts/bench.d/tokenizer_bench.mjs "$(realpath "${1:-build/kvbench}")" results/bench/tokenizer.json
