#!/usr/bin/env bash
# Scorer and generator speed: `kvbench score` on 2000 self-contained MileBench-style predictions
# (1000 open-ended ROUGE-L with ~60-word answers, 1000 multi-choice), and generating 20 needle
# haystacks of 16K estimated tokens with 4 images each (`data check`). Wall seconds include
# the ~1-2 s process start.
set -euo pipefail
KVB=$1
out=results/bench/scoring.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/preds.jsonl" <<'PY'
import json, random, sys
rng = random.Random(7)
words = "river garden window morning quiet market bridge yellow letter mountain simple village paper".split()
with open(sys.argv[1], "w") as f:
    for i in range(1000):
        ans = " ".join(rng.choice(words) for _ in range(60)) + "."
        ref = " ".join(rng.choice(words) for _ in range(40)) + ". " + " ".join(rng.choice(words) for _ in range(20))
        f.write(json.dumps({"id": f"o/{i}", "prediction": ans, "answer": ref, "group": "WebQA",
                            "meta": {"eval": "rouge", "n_images": 3}}) + "\n")
    for i in range(1000):
        ch = [" ".join(rng.choice(words) for _ in range(3)) for _ in range(4)]
        f.write(json.dumps({"id": f"m/{i}", "prediction": f"I think it is {ch[i % 4]}", "answer": ch[0],
                            "choices": ch, "group": "TQA", "meta": {"eval": "multi-choice", "n_images": 3}}) + "\n")
PY
t0=$(date +%s.%N)
"$KVB" -q score --benchmark milebench --predictions "$tmp/preds.jsonl" > /dev/null
t1=$(date +%s.%N)
"$KVB" -q data check --benchmark needle --data-root "$tmp" --set samples=20 --set min_tokens=16000 \
  --set max_tokens=16000 --set images=4 > /dev/null
t2=$(date +%s.%N)
python3 - "$out" "$t0" "$t1" "$t2" "$(nproc)" <<'PY'
import json, sys
out, t0, t1, t2, cores = sys.argv[1], *map(float, sys.argv[2:5]), sys.argv[5]
json.dump({"machine": f"{cores} cores",
           "score_2000_predictions_s": round(t1 - t0, 3),
           "needle_20x16k_tokens_4_images_s": round(t2 - t1, 3)}, open(out, "w"), indent=2)
PY
echo "wrote $out"
