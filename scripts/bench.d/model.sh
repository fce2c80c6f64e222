#!/usr/bin/env bash
# Prefill / decode throughput of the Qwen2.5-VL engine on CPU (float32), text-only prompts:
# the tiny test model, and a random model of the published 7B geometry cut to 2 LLM layers
# (1 vision block; the 152064 x 3584 embedding and LM head are full size).
# Writes results/bench/model.json. Usage: model.sh KVBENCH [THREADS]
set -euo pipefail
KVB=$1
THREADS=${2:-$(nproc)}
OUT=results/bench/model.json
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

prompt() {  # about $1 tokens of text
  python3 -c "import sys; n=int(sys.argv[1]); print(' '.join(f'w{i%97} x{i%13}' for i in range(n//4)))" "$1"
}

run() {  # model_dir label prompt_tokens new_tokens
  "$KVB" -q --threads "$THREADS" generate --model "$1" --prompt "$(prompt "$3")" --max-new-tokens "$4" \
    --model-option prefill_chunk=2048 --json > "$TMP/$2.json"
}

"$KVB" -q make-tiny-model --out "$TMP/tiny" --seed 1 > /dev/null
run "$TMP/tiny" tiny_512 512 32
run "$TMP/tiny" tiny_4096 4096 32
"$KVB" -q make-tiny-model --out "$TMP/7b2" --geometry 7b --layers 2 --vision-depth 1 --seed 1 > /dev/null
run "$TMP/7b2" 7b2_512 512 8
run "$TMP/7b2" 7b2_2048 2048 8

python3 - "$TMP" "$THREADS" "$OUT" <<'PY'
import json, os, platform, sys
tmp, threads, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
res = {"device": f"CPU ({os.cpu_count()} cores, {platform.machine()}), {threads} torch threads, float32",
       "note": "text-only prompts; decode excludes the first token (taken from the prefill logits)", "runs": {}}
for name, layers in [("tiny_512", 2), ("tiny_4096", 2), ("7b2_512", 2), ("7b2_2048", 2)]:
    r = json.load(open(os.path.join(tmp, name + ".json")))
    dec = r["decode_ms"]
    d = {"prompt_tokens": r["prompt_tokens"], "prefill_ms": round(r["prefill_ms"], 2),
         "prefill_tok_s": round(r["prompt_tokens"] / r["prefill_ms"] * 1e3, 1),
         "prefill_ms_per_layer": round(r["prefill_ms"] / layers, 2),
         "decode_steps": len(dec), "decode_ms_per_token": round(sum(dec) / max(1, len(dec)), 2),
         "decode_tok_s": round(len(dec) / sum(dec) * 1e3, 1) if dec else None}
    res["runs"][name] = d
    print(f"{name:10s} T={d['prompt_tokens']:5d} prefill {d['prefill_tok_s']:8.1f} tok/s "
          f"({d['prefill_ms_per_layer']} ms/layer)  decode {d['decode_tok_s']} tok/s")
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump(res, open(out, "w"), indent=2)
PY
