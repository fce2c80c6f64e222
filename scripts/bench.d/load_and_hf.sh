#!/usr/bin/env bash
# Checkpoint load (peak RSS, wall time) and prefill/decode speed of kvbench beside HF transformers
# on the same weights, on this CPU: the tiny checkpoint and the published 3B geometry cut to 2 LLM
# layers and 2 vision blocks, in float32 and bfloat16, a text prompt of ~500 tokens and 16 decode
# steps. The HF side needs the recipe in ../shared/tools/hf-cpu (set up with its setup.sh); without
# it only kvbench is measured and the JSON says why. Writes results/bench/load_and_hf.json.
# Usage: load_and_hf.sh KVBENCH [THREADS]
set -euo pipefail
# Idle OpenMP workers sleep instead of spinning: on a shared machine spinning workers distort timings badly.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
KVB=$1
# HF's torch loads the same OpenBLAS: give it the kernels kvbench runs with (core/blas_core.h).
CORE=$("$KVB" --version | sed -n 's/.*OpenBLAS \([A-Za-z0-9]*\).*/\1/p')
if [ -n "$CORE" ]; then export OPENBLAS_CORETYPE=$CORE; fi
THREADS=${2:-$(nproc)}
OUT=results/bench/load_and_hf.json
HFTOOLS=${HFTOOLS:-$(cd .. && pwd)/shared/tools/hf-cpu}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PROMPT=$(python3 -c "print(' '.join(f'w{i%97} x{i%13}' for i in range(125)))")

"$KVB" -q make-tiny-model --out "$TMP/tiny" --seed 1 >/dev/null
"$KVB" -q make-tiny-model --out "$TMP/3b2" --geometry 3b --layers 2 --vision-depth 2 --seed 1 >/dev/null
HF=0
if [ -f "$HFTOOLS/env.sh" ] && [ -d "${HFCPU:-/tmp/hfcpu}/tf/src/transformers" ]; then HF=1; fi

for m in tiny 3b2; do
  [ $HF = 1 ] && python3 "$HFTOOLS/make_slow_tok_dir.py" "$TMP/$m" "$TMP/${m}_slow" >/dev/null
  for dt in float32 bfloat16; do
    /usr/bin/time -v "$KVB" --threads "$THREADS" generate --model "$TMP/$m" --dtype "$dt" --prompt "$PROMPT" \
      --max-new-tokens 16 --json >"$TMP/kvb_${m}_$dt.json" 2>"$TMP/kvb_${m}_$dt.time"
    if [ $HF = 1 ]; then
      (. "$HFTOOLS/env.sh" && /usr/bin/time -v $PY - "$TMP/${m}_slow" "$dt" "$THREADS" "$PROMPT" \
        >"$TMP/hf_${m}_$dt.json" 2>"$TMP/hf_${m}_$dt.time" <<'PY'
import json, sys, time
import torch
from transformers import AutoTokenizer, Qwen2_5_VLForConditionalGeneration
path, dtype, threads, prompt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
t0 = time.perf_counter()
model = Qwen2_5_VLForConditionalGeneration.from_pretrained(path, torch_dtype=getattr(torch, dtype), attn_implementation="eager").eval()
load_ms = (time.perf_counter() - t0) * 1e3
tok = AutoTokenizer.from_pretrained(path, use_fast=False)
text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
ids = tok(text, return_tensors="pt")
with torch.no_grad():
    t0 = time.perf_counter()
    out = model(**ids, use_cache=True)
    prefill_ms = (time.perf_counter() - t0) * 1e3
    past, nxt, steps = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True), []
    pos = ids["input_ids"].shape[1]
    mask = ids["attention_mask"]
    for _ in range(15):  # kvbench's decode steps: the first token comes from the prefill logits
        mask = torch.cat([mask, mask.new_ones((1, 1))], 1)
        t0 = time.perf_counter()
        o = model(input_ids=nxt, attention_mask=mask, past_key_values=past, use_cache=True,
                  cache_position=torch.tensor([pos]))
        steps.append((time.perf_counter() - t0) * 1e3)
        past, nxt, pos = o.past_key_values, o.logits[:, -1].argmax(-1, keepdim=True), pos + 1
print(json.dumps({"prompt_tokens": ids["input_ids"].shape[1], "load_ms": load_ms, "prefill_ms": prefill_ms, "decode_ms": steps}))
PY
      ) || echo "{\"error\": \"HF run failed: see $TMP/hf_${m}_$dt.time\"}" >"$TMP/hf_${m}_$dt.json"
    fi
  done
done

python3 - "$TMP" "$THREADS" "$OUT" "$HF" <<'PY'
import json, os, platform, re, sys
tmp, threads, out, hf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
def rss_gib(path):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())
    return round(int(m.group(1)) / 2**20, 3) if m else None
def wall_s(path):
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", open(path).read())
    return round((int(m.group(1) or 0) * 60 + int(m.group(2))) * 60 + float(m.group(3)), 2) if m else None
def speeds(r):
    dec = r["decode_ms"]
    return {"prompt_tokens": r["prompt_tokens"], "prefill_tok_s": round(r["prompt_tokens"] / r["prefill_ms"] * 1e3, 1),
            "decode_tok_s": round(len(dec) / sum(dec) * 1e3, 1) if dec else None}
res = {"device": f"CPU ({os.cpu_count()} cores, {platform.machine()}), {threads} torch threads",
       "hf": "transformers 4.50.0 (shared/tools/hf-cpu recipe, eager attention: sdpa needs torch >= 2.1.1, Debian has 1.13)" if hf else
             "not measured: the hf-cpu recipe is not set up (run ../shared/tools/hf-cpu/setup.sh)",
       "runs": {}}
for m in ("tiny", "3b2"):
    for dt in ("float32", "bfloat16"):
        k = json.load(open(f"{tmp}/kvb_{m}_{dt}.json"))
        row = {"kvbench": {**speeds(k), "peak_rss_gib": rss_gib(f"{tmp}/kvb_{m}_{dt}.time"),
                           "process_wall_s": wall_s(f"{tmp}/kvb_{m}_{dt}.time")}}
        if hf:
            h = json.load(open(f"{tmp}/hf_{m}_{dt}.json"))
            if "error" not in h:
                row["hf"] = {**speeds(h), "peak_rss_gib": rss_gib(f"{tmp}/hf_{m}_{dt}.time"),
                             "process_wall_s": wall_s(f"{tmp}/hf_{m}_{dt}.time"), "load_ms": round(h["load_ms"])}
                row["kvbench_over_hf"] = {x: round(row["kvbench"][x] / row["hf"][x], 2)
                                          for x in ("prefill_tok_s", "decode_tok_s") if row["hf"][x]}
            else:
                row["hf"] = h
        res["runs"][f"{m}_{dt}"] = row
        print(f"{m:5s} {dt:9s} kvbench {row['kvbench']}" + (f"\n{'':15s} hf      {row.get('hf')}" if hf else ""))
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump(res, open(out, "w"), indent=2)
PY
