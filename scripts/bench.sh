#!/usr/bin/env bash
# `make bench`: runs every scripts/bench.d/*.sh with the kvbench binary; each writes results/bench/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
KVB=$(realpath "${1:-build/kvbench}")
mkdir -p results/bench
for b in scripts/bench.d/*.sh; do
  [ -e "$b" ] || continue
  echo "== $b"
  bash "$b" "$KVB"
done
