#!/usr/bin/env python3
"""Collects the device check's pieces (steps.jsonl, parity.json, bench_compress.json, e2e.json) into
summary.json and summary.md: bench-compress beside the FlashCache paper's column (Qwen2.5-VL-7B on an
H200, ms) with the issue's goals, parity pass/fail, and the end-to-end table. Missing pieces are
reported as missing, never invented. Usage: summarize.py DIR [--commit SHA]"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import versions, write_json  # noqa: E402

# FlashCache paper, Qwen2.5-VL-7B on H200, compression latency in ms at 2K / 4K / 8K tokens.
PAPER_MS = {
    "flashcache": {"2048": 1.66, "4096": 3.86, "8192": 6.77},
    "snapkv": {"2048": 2.53, "4096": 4.95, "8192": 9.57},
    "h2o": {"2048": 3.83, "4096": 10.29, "8192": 27.62},
    "lookm": {"2048": 6.93, "4096": 18.66, "8192": 53.97},
    "meda": {"2048": 16.6, "4096": 38.39, "8192": 83.75},
}
FLASHCACHE_8K_GOAL_MS = 1.0
DECODE_SPEEDUP_GOAL = 1.69


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def bench_section(b):
    if not b:
        return {"missing": True}, "bench-compress: no result\n"
    tokens = [str(t) for t in b["tokens"]]
    rows, md = {}, []
    md.append("| Method | " + " | ".join(f"{int(t) / 1024:g}K ms (paper)" for t in tokens) + " | faster than paper at all sizes |")
    md.append("|---|" + "---|" * (len(tokens) + 1))
    for name, m in sorted(b["methods"].items()):
        ms = m.get("ms", {})
        paper = PAPER_MS.get(name, {})
        cells, faster, compared = [], True, 0
        for t in tokens:
            got = ms.get(t)
            p = paper.get(t)
            cells.append(("-" if got is None else f"{got:.2f}") + (f" ({p})" if p is not None else ""))
            if p is not None:
                compared += 1
                if got is None or got >= p:
                    faster = False
        verdict = ("yes" if faster else "no") if compared else "n/a (no paper figure at these lengths)"
        rows[name] = {"ms": ms, "paper_ms": paper, "faster_than_paper": faster if compared else None,
                      "errors": m.get("errors")}
        md.append(f"| {name} | " + " | ".join(cells) + f" | {verdict} |")
    for bname, b_ms in b["bounds"].items():
        md.append(f"| bound: {bname} | " + " | ".join(f"{b_ms.get(t, float('nan')):.2f}" for t in tokens) + " | |")
    fc8 = b["methods"].get("flashcache", {}).get("ms", {}).get("8192")
    goals = {
        "every_method_with_paper_figure_faster": all(rows.get(n, {}).get("faster_than_paper") is True for n in PAPER_MS),
        "flashcache_8k_ms": fc8,
        "flashcache_8k_le_1ms": fc8 is not None and fc8 <= FLASHCACHE_8K_GOAL_MS,
    }
    return {"methods": rows, "bounds": b["bounds"], "device": b.get("device"), "goals": goals}, "\n".join(md) + "\n"


def e2e_section(e):
    if not e:
        return {"missing": True}, "end to end: no result\n"
    md = ["| Run | prompt tokens | prefill ms | decode tok/s | speedup vs Full | peak GPU MiB (nvidia-smi; CPU: peak RSS MiB) |",
          "|---|---|---|---|---|---|"]
    for r in e.get("runs", []):
        if "error" in r:
            md.append(f"| kvbench {r['method']} | error: {r['error'][-120:]!r} | | | | |")
            continue
        pre = (r.get("vision_ms") or 0) + (r.get("prefill_ms") or 0) + (r.get("compress_ms") or 0)
        md.append(f"| kvbench {r['method']} | {r.get('prompt_tokens')} | {pre:.1f} | {r.get('decode_tok_s') or 0:.1f} | "
                  f"{r.get('decode_speedup_vs_full', float('nan')):.2f} | "
                  f"{r.get('peak_gpu_mib_nvsmi') or ('RSS %.0f' % r['peak_rss_mib'] if r.get('peak_rss_mib') else None)} |")
    hf = e.get("hf")
    if hf:
        if "error" in hf:
            md.append(f"| HF {hf.get('method', 'generate')} | error: {hf['error'][-120:]!r} | | | | |")
        else:
            md.append(f"| HF {hf.get('method')} | {hf.get('prompt_tokens')} | {hf.get('prefill_plus_first_token_ms', 0):.1f} "
                      f"(incl. 1st token) | {hf.get('decode_tok_s') or 0:.1f} | | {hf.get('peak_gpu_mib_nvsmi')} |")
    speedups = [r.get("decode_speedup_vs_full") for r in e.get("runs", [])[1:] if r.get("decode_speedup_vs_full")]
    goals = {"kvbench_full_vs_hf_decode": e.get("kvbench_full_vs_hf_decode"),
             "kvbench_ge_hf": (e.get("kvbench_full_vs_hf_decode") or 0) >= 1.0,
             "min_decode_speedup_at_ratio": min(speedups) if speedups else None,
             "decode_speedup_goal_met_by_all": bool(speedups) and min(speedups) >= DECODE_SPEEDUP_GOAL,
             "skipped": e.get("skipped")}
    return {"goals": goals, "ratio": e.get("ratio")}, "\n".join(md) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--mode", default="cuda")
    a = ap.parse_args()
    steps = []
    try:
        with open(os.path.join(a.dir, "steps.jsonl")) as f:
            steps = [json.loads(line) for line in f if line.strip()]
    except OSError:
        pass
    parity = load(os.path.join(a.dir, "parity.json"))
    bench, bench_md = bench_section(load(os.path.join(a.dir, "bench_compress.json")))
    e2e, e2e_md = e2e_section(load(os.path.join(a.dir, "e2e.json")))
    s = {"mode": a.mode, "commit": a.commit, "versions": versions(), "steps": steps,
         "parity": {k: parity.get(k) for k in ("pass", "cases_run", "cases_ok", "device", "dtype")} if parity else {"missing": True},
         "bench_compress": bench, "e2e": e2e}
    write_json(os.path.join(a.dir, "summary.json"), s)
    md = [f"# kvbench device check ({a.mode}, commit {a.commit})", "",
          "| step | rc | seconds | limit |", "|---|---|---|---|"]
    md += [f"| {x['step']} | {x['rc']} | {x['seconds']} | {x['limit']} |" for x in steps]
    md += ["", "## HF parity", json.dumps(s["parity"]), "", "## bench-compress (ms; the paper's H200 figure in brackets)",
           bench_md, "goals: " + json.dumps(bench.get("goals")), "", "## End to end", e2e_md,
           "goals: " + json.dumps(e2e.get("goals")), ""]
    with open(os.path.join(a.dir, "summary.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
