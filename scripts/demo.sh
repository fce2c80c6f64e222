#!/usr/bin/env bash
# The embedded demo behind `make run`.
set -euo pipefail
KVB=${1:-build/kvbench}
"$KVB" list
