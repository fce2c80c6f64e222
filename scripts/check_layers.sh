#!/usr/bin/env bash
# Every project include points down the layer order (a folder may include itself and the
# layers below it, never a layer above or beside it):
#   core < text, vision < models, compress < cache < engine < eval < train < cli, benchmarks
#   methods see core and compress only (the engine never asks a method's concrete type).
# Prints each include that breaks the order and exits 1; `scripts/check_layers.sh` from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

allowed() {  # the layers a folder may include besides itself
  case "$1" in
    core) echo "" ;;
    text | vision) echo "core" ;;
    models) echo "core text vision" ;;
    compress) echo "core" ;;
    cache) echo "core compress" ;;
    engine) echo "core text vision models compress cache" ;;
    eval) echo "core text vision models compress cache engine" ;;
    train) echo "core text vision models compress cache engine eval" ;;
    cli) echo "core text vision models compress cache engine eval train" ;;
    benchmarks) echo "core text vision models compress cache engine eval" ;;
    methods) echo "core compress" ;;
    *) echo "?" ;;
  esac
}

bad=0
while IFS= read -r line; do
  file=${line%%:*}
  inc=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$line")
  case "$file" in
    src/*) from=$(cut -d/ -f2 <<<"$file") ;;
    *) from=$(cut -d/ -f1 <<<"$file") ;;
  esac
  [ "$inc" = "$from" ] && continue
  case " $(allowed "$from") " in
    *" $inc "*) ;;
    *) echo "layer order: $line"; bad=1 ;;
  esac
done < <(grep -rnE '^#include "(core|text|vision|models|compress|cache|engine|eval|train|cli|benchmarks|methods)/' \
           src methods benchmarks --include='*.h' --include='*.cpp')
exit $bad
