#!/usr/bin/env bash
# The whole GPU check in one command of at most 8 minutes (docs/gpu.md, "One device run"):
#   1 build against the device's CUDA libtorch (scripts/gpu_build.sh, every core)
#   2 the test suite (ctest, every core)
#   3 HF parity on CUDA in bfloat16, tiny checkpoint of every family (scripts/device/hf_parity.py)
#   4 bench-compress on CUDA at 2K/4K/8K, every method, 7B geometry, beside the paper's column
#   5 end to end on a random-weight 7B-geometry checkpoint: 8K-token image prefill + 128 decode
#     steps, Full and every method at rho = 0.2, beside HF generate (scripts/device/e2e_generate.py)
#   6 summary.json / summary.md (scripts/device/summarize.py)
# Every step runs under `timeout` with its own budget cut to what is left of the whole; a failed
# step is recorded (steps.jsonl: rc, seconds, limit) and the next one still runs. Everything lands
# in $OUT (the device tool brings back at most 8 files there: summary.json, summary.md,
# parity.json, bench_compress.json, e2e.json, steps.jsonl, logs.tar.gz) and, for committing, is
# copied by hand from there into results/reference/gpu/.
#
# Usage on the device: bash scripts/device_check.sh            (carry .gpudeps and the tokenizer;
#                                                                 see docs/gpu.md)
#        here, to prove it parses and its Python runs:
#                      bash scripts/device_check.sh --cpu-dry-run [BUILD_DIR]
# KVB_CHECK_SKIP="build ctest" skips steps by name (a rerun on a machine that already built);
# KVB_BIN=path uses another kvbench binary; KVB_CHECK_BUDGET_S changes the whole budget.
# The dry run does the same steps on the CPU with tiny sizes: an incremental build of BUILD_DIR
# (default build), one ctest shard, parity on CPU in float32 with the HF-on-CPU tree of
# ../shared/tools/hf-cpu (when set up), bench-compress at 128/256 tokens, and the end to end on
# the tiny geometry with 8 decode steps.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=cuda
if [ "${1:-}" = "--cpu-dry-run" ]; then MODE=cpu; shift; fi
TOTAL=${KVB_CHECK_BUDGET_S:-470}   # 8 minutes less a margin for the tool's own start and copy
START=$(date +%s)
DIR=${OUT:-$ROOT/results/reference/gpu/last-run}
[ "$MODE" = cpu ] && DIR=${OUT:-/tmp/kvb-device-dry-run}
mkdir -p "$DIR"
LOGS=$(mktemp -d)
: > "$DIR/steps.jsonl"
COMMIT=$(git rev-parse HEAD 2>/dev/null || cat .kvb-commit 2>/dev/null || echo unknown)

left() { echo $(( TOTAL - ($(date +%s) - START) )); }

# step NAME BUDGET_S CMD...: runs CMD with stdout+stderr in $LOGS/NAME.log, time-boxed to
# min(BUDGET_S, what is left), and appends {step, rc, seconds, limit} to steps.jsonl.
step() {
  local name=$1 budget=$2; shift 2
  if [[ " ${KVB_CHECK_SKIP:-} " == *" $name "* ]]; then
    echo "{\"step\": \"$name\", \"rc\": \"skipped\", \"seconds\": 0, \"limit\": 0}" >> "$DIR/steps.jsonl"
    echo "== $name: skipped (KVB_CHECK_SKIP)"
    return 0
  fi
  local l; l=$(left)
  [ "$budget" -gt "$l" ] && budget=$l
  if [ "$budget" -lt 5 ]; then
    echo "{\"step\": \"$name\", \"rc\": \"skipped\", \"seconds\": 0, \"limit\": $budget}" >> "$DIR/steps.jsonl"
    echo "== $name: skipped (no time left)"
    return 0
  fi
  echo "== $name (limit ${budget}s, $(left)s left of ${TOTAL}s)"
  local t0; t0=$(date +%s)
  timeout -k 5 "$budget" "$@" > "$LOGS/$name.log" 2>&1
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  echo "{\"step\": \"$name\", \"rc\": $rc, \"seconds\": $dt, \"limit\": $budget}" >> "$DIR/steps.jsonl"
  tail -n 15 "$LOGS/$name.log"
  echo "== $name: rc=$rc in ${dt}s"
  return 0
}

if [ "$MODE" = cuda ]; then
  BUILD=build-gpu
  DEPS=/tmp/kvb-deps
  export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  export OMP_WAIT_POLICY=passive
  PY=python3
  B_BUILD=230 B_TEST=70 B_PARITY=45 B_BENCH=45 B_E2E=200
  step build "$B_BUILD" bash scripts/gpu_build.sh "$BUILD"
  # libtorch's own libraries for the test binary and kvbench (torch's pip wheel keeps them in torch/lib).
  TORCH_LIB=$($PY -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)
  export LD_LIBRARY_PATH="$TORCH_LIB:$LD_LIBRARY_PATH"
  KVB=${KVB_BIN:-$ROOT/$BUILD/kvbench}
  step ctest "$B_TEST" bash -c "cd $BUILD && ctest -j $(nproc) --timeout 60 --output-on-failure"
  step parity "$B_PARITY" $PY scripts/device/hf_parity.py --kvbench "$KVB" --device cuda --dtype bfloat16 \
    --out "$DIR/parity.json"
  step bench_compress "$B_BENCH" "$KVB" bench-compress --device cuda --geometry qwen2.5-vl-7b \
    --tokens 2048,4096,8192 --repeats 5 --out "$DIR/bench_compress.json"
  E2E_LIMIT=$(( $(left) - 15 ))
  [ "$E2E_LIMIT" -gt "$B_E2E" ] && E2E_LIMIT=$B_E2E
  step e2e "$B_E2E" $PY scripts/device/e2e_generate.py --kvbench "$KVB" --device cuda --dtype bfloat16 \
    --geometry 7b --tokens 8192 --decode 128 --ratio 0.2 --deadline-s $(( E2E_LIMIT - 10 )) --run-timeout 90 \
    --work /tmp/kvb_e2e --out "$DIR/e2e.json"
else
  BUILD=${1:-build}
  export OMP_WAIT_POLICY=passive
  HFTOOLS=${HFTOOLS:-$(cd .. && pwd)/shared/tools/hf-cpu}
  [ -d "$HFTOOLS" ] || HFTOOLS=/work/shared/tools/hf-cpu
  PY=python3
  if [ -f "$HFTOOLS/env.sh" ] && [ -d "${HFCPU:-/tmp/hfcpu}/tf" ]; then . "$HFTOOLS/env.sh"; fi
  KVB=${KVB_BIN:-$ROOT/$BUILD/kvbench}
  B_BUILD=300 B_TEST=200 B_PARITY=240 B_BENCH=240 B_E2E=200
  TOTAL=${KVB_CHECK_BUDGET_S:-1200}
  step build "$B_BUILD" cmake --build "$BUILD" -j 2
  step ctest "$B_TEST" bash -c "cd $BUILD && ctest -j 2 --timeout 150 -R 'shard_0\$' --output-on-failure"
  step parity "$B_PARITY" $PY scripts/device/hf_parity.py --kvbench "$KVB" --device cpu --dtype float32 \
    --cases text,one_image --case-timeout 120 --out "$DIR/parity.json"
  step bench_compress "$B_BENCH" "$KVB" bench-compress --device cpu --geometry qwen2.5-vl-7b \
    --tokens 128,256 --repeats 1 --threads 2 --out "$DIR/bench_compress.json"
  # The tiny checkpoint's tokenizer.json is only for the fast (Rust) tokenizer, absent here:
  # HF reads a slow-tokenizer folder made beside it.
  mkdir -p /tmp/kvb_e2e_dry
  if [ ! -f /tmp/kvb_e2e_dry/qwen2_5_vl_tiny/config.json ]; then
    "$KVB" make-tiny-model --family qwen2_5_vl --geometry tiny --seed 1 --out /tmp/kvb_e2e_dry/qwen2_5_vl_tiny > /dev/null
  fi
  $PY "$HFTOOLS/make_slow_tok_dir.py" /tmp/kvb_e2e_dry/qwen2_5_vl_tiny /tmp/kvb_e2e_dry/slow > /dev/null 2>&1 || true
  step e2e "$B_E2E" $PY -c "
import sys, runpy, transformers
orig = transformers.AutoProcessor.from_pretrained
transformers.AutoProcessor.from_pretrained = lambda *a, **k: orig(*a, **{'use_fast': False, **k})
sys.argv = ['e2e_generate.py', '--kvbench', '$KVB', '--device', 'cpu', '--dtype', 'float32', '--geometry', 'tiny',
            '--tokens', '256', '--decode', '8', '--methods', 'flashcache,snapkv', '--work', '/tmp/kvb_e2e_dry',
            '--hf-processor-dir', '/tmp/kvb_e2e_dry/slow', '--hf-attn', 'eager', '--deadline-s', '150', '--out', '$DIR/e2e.json']
runpy.run_path('scripts/device/e2e_generate.py', run_name='__main__')"
fi

$PY scripts/device/summarize.py "$DIR" --commit "$COMMIT" --mode "$MODE" > "$LOGS/summarize.log" 2>&1 ||
  echo "summarize failed: $(tail -n 5 "$LOGS/summarize.log")"
tar -czf "$DIR/logs.tar.gz" -C "$LOGS" . 2>/dev/null
cat "$DIR/summary.md" 2>/dev/null
echo "device check ($MODE) done in $(( $(date +%s) - START ))s; results in $DIR"
