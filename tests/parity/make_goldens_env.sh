# Sourced (not run) by tests/parity/<family>/make_goldens.sh, which passes its arguments on:
# strict mode, the repository root as the working folder, KVBENCH (the first argument, default
# build/kvbench), the hf-cpu tools (HFTOOLS; its env.sh sets PY and the Python path) and a
# scratch folder $tmp removed at exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
KVBENCH=${1:-build/kvbench}
HFTOOLS=${HFTOOLS:-$(cd .. && pwd)/shared/tools/hf-cpu}
. "$HFTOOLS/env.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# make_tiny FAMILY SEED [slow]: the tiny checkpoint the goldens hash, at $tmp/tiny; with `slow`
# also $tmp/tiny_slow, its copy with vocab.json/merges.txt for HF's slow Qwen2Tokenizer.
make_tiny() {
  "$KVBENCH" make-tiny-model --family "$1" --seed "$2" --out "$tmp/tiny"
  if [ "${3:-}" = slow ]; then $PY "$HFTOOLS/make_slow_tok_dir.py" "$tmp/tiny" "$tmp/tiny_slow"; fi
}
