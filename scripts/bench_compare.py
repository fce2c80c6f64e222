#!/usr/bin/env python3
"""Before/after table of two `kvbench bench-compress` JSONs (e.g. the A/B of issue 16:
KVB_DCT_ALGO=legacy vs the defaults, same binary, --threads 1 --clock cpu).
Per length: the DCT bound and FlashCache (and FlashCache / bound), the window-GEMM bound and
SnapKV / PyramidKV / AdaKV (each / bound), min and median of the timed runs where recorded.
Usage: bench_compare.py BEFORE.json AFTER.json [--md OUT.md]"""
import argparse
import json


def cell(r, kind, name, t):
    """(median, min) ms of a method or bound at length t."""
    if kind == "bound":
        med = r["bounds"][name][t]
        runs = r.get("runs_ms", {}).get("bound:" + name.replace("_ms", ""), {}).get(t)
    else:
        med = r["methods"].get(name, {}).get("ms", {}).get(t)
        runs = r.get("runs_ms", {}).get(name, {}).get(t)
    return med, (min(runs) if runs else None)


def fmt(v):
    return "-" if v is None else f"{v:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--md")
    a = ap.parse_args()
    b, f = json.load(open(a.before)), json.load(open(a.after))
    lines = [f"clock: {f.get('clock', 'wall')}, threads: {f['machine']['torch_threads']}, repeats: {f['repeats']}; "
             f"load before run {b['machine']['load_average_start']} -> {b['machine']['load_average_end']}, "
             f"after run {f['machine']['load_average_start']} -> {f['machine']['load_average_end']}",
             "", "| T | what | before median (min) ms | after median (min) ms | speed-up | before / bound | after / bound |",
             "|---|---|---|---|---|---|---|"]
    for t in [str(x) for x in f["tokens"]]:
        for bound, methods in (("dct_idct_ms", ["flashcache"]), ("window_gemm_ms", ["snapkv", "pyramidkv", "adakv"])):
            bb, bm = cell(b, "bound", bound, t)
            fb, fm = cell(f, "bound", bound, t)
            lines.append(f"| {t} | bound {bound[:-3]} | {fmt(bb)} ({fmt(bm)}) | {fmt(fb)} ({fmt(fm)}) | "
                         f"{bb / fb:.2f}x | 1 | 1 |")
            for m in methods:
                x, xm = cell(b, "method", m, t)
                y, ym = cell(f, "method", m, t)
                if x is None or y is None:
                    continue
                lines.append(f"| {t} | {m} | {fmt(x)} ({fmt(xm)}) | {fmt(y)} ({fmt(ym)}) | {x / y:.2f}x | "
                             f"{x / bb:.2f} | {y / fb:.2f} |")
    if f.get("dct_algorithm"):
        lines += ["", "CPU DCT picked per length (after): " + json.dumps(f["dct_algorithm"])]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.md:
        open(a.md, "w").write(text)


if __name__ == "__main__":
    main()
