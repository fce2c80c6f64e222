#!/usr/bin/env python3
"""HF parity on one device and dtype (default: CUDA, bfloat16) for the tiny checkpoint of every family.

For each family (qwen2_5_vl: tests/parity/qwen, llava: tests/parity/llava) and each golden case:
  * kvbench side: `kvbench dump-kv --device D --dtype T` on the case's messages (the goldens' media);
  * HF side: transformers on the same device and dtype, fed the goldens' own input tensors
    (input ids, pixel values, grids), one forward with the KV cache on;
  * compared: every layer's post-RoPE K and V, kvbench vs HF on this device, within the parity
    issue's tolerance (float32: 1e-4 absolute; bfloat16: 4 bf16 ulps of the largest |HF value| per
    tensor, as tests/parity/*/test_*_hf_parity.cpp); and, for the record only, HF on this device vs
    the stored CPU goldens of the same dtype, and the last-position logits HF device vs CPU golden.
Writes one JSON (--out) with per-case max differences, tolerances and a pass flag. Exit code 0 when
every kvbench-vs-HF comparison is within tolerance, 1 otherwise, 2 when nothing could run.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import bf16_ulp, run_kvbench, versions, write_json  # noqa: E402

import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAMILIES = {  # kvbench family -> goldens folder, HF class name
    "qwen2_5_vl": ("tests/parity/qwen/goldens", "Qwen2_5_VLForConditionalGeneration"),
    "llava": ("tests/parity/llava/goldens", "LlavaForConditionalGeneration"),
}
DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "I64": torch.int64,
          "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    """Minimal reader (no safetensors package needed): name -> CPU tensor."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        dt = DTYPES[info["dtype"]]
        buf = bytearray(data[b:e])
        t = torch.frombuffer(buf, dtype=dt) if len(buf) else torch.empty(0, dtype=dt)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def hf_kv(past, layer):
    """(K, V) of one layer from any transformers cache flavour, as [Hkv, T, D] float32 CPU."""
    if hasattr(past, "layers"):  # transformers >= 4.56 / 5.x Cache with .layers
        k, v = past.layers[layer].keys, past.layers[layer].values
    elif hasattr(past, "key_cache"):
        k, v = past.key_cache[layer], past.value_cache[layer]
    else:
        k, v = past[layer][0], past[layer][1]
    return k[0].float().cpu(), v[0].float().cpu()


def n_layers(past):
    if hasattr(past, "layers"):
        return len(past.layers)
    if hasattr(past, "key_cache"):
        return len(past.key_cache)
    return len(past)


def compare(got, want, dtype):
    tol = 1e-4 if dtype == "float32" else 4.0 * bf16_ulp(float(want.abs().max()))
    if got.shape != want.shape:
        return {"shape_got": list(got.shape), "shape_want": list(want.shape), "ok": False}
    d = float((got.double() - want.double()).abs().max()) if got.numel() else 0.0
    return {"max_abs_diff": d, "tol": tol, "ok": d <= tol}


def messages_for(fam, gdir, meta):
    """kvbench --messages JSON (absolute media paths) for one golden case."""
    def seg(c):
        if c["type"] == "text":
            return {"type": "text", "text": c["text"]}
        if c["type"] == "image":
            return {"type": "image", "image": os.path.join(gdir, c["file"])}
        return {"type": "video", "video": os.path.join(gdir, c["folder"]), "fps": c["fps"]}
    if "messages" in meta:
        return [{"role": m["role"], "content": [seg(c) for c in m["content"]]} for m in meta["messages"]]
    return [{"role": "user", "content": [seg(c) for c in meta["content"]]}]


def hf_inputs(fam, case, meta, g, device, dtype):
    ids = g[f"{case}.input_ids"].reshape(1, -1).to(device)
    kw = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if f"{case}.pixel_values" in g:
        kw["pixel_values"] = g[f"{case}.pixel_values"].to(device, dtype)
    if fam == "qwen2_5_vl":
        if f"{case}.image_grid_thw" in g:
            kw["image_grid_thw"] = g[f"{case}.image_grid_thw"].to(device)
        if f"{case}.pixel_values_videos" in g:
            kw["pixel_values_videos"] = g[f"{case}.pixel_values_videos"].to(device, dtype)
            kw["video_grid_thw"] = g[f"{case}.video_grid_thw"].to(device)
            if meta.get("second_per_grid_ts"):
                kw["second_per_grid_ts"] = torch.tensor(meta["second_per_grid_ts"], device=device)
    return kw


def run_family(fam, args, tmp, report):
    gdir_rel, cls_name = FAMILIES[fam]
    gdir = os.path.join(ROOT, gdir_rel)
    manifest = json.load(open(os.path.join(gdir, "goldens.json")))
    golden = read_safetensors(os.path.join(gdir, "goldens.safetensors"))
    ck = os.path.join(tmp, fam)
    r = run_kvbench([args.kvbench, "make-tiny-model", "--family", fam, "--seed", str(manifest["checkpoint"]["seed"]),
                     "--out", ck], 120)
    fam_rep = {"goldens": gdir_rel, "golden_transformers": manifest.get("transformers"), "cases": {}}
    report["families"][fam] = fam_rep
    if r["rc"] != 0:
        fam_rep["error"] = "make-tiny-model failed: " + r["stderr"][-2000:]
        return
    import transformers
    cls = getattr(transformers, cls_name)
    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}[args.dtype]
    t0 = time.time()
    try:
        model = cls.from_pretrained(ck, dtype=dtype, attn_implementation=manifest.get("attn_implementation", "eager"))
    except TypeError:  # transformers 4.x spells it torch_dtype
        model = cls.from_pretrained(ck, torch_dtype=dtype, attn_implementation=manifest.get("attn_implementation", "eager"))
    model = model.to(args.device).eval()
    fam_rep["hf_load_s"] = time.time() - t0
    for case, meta in manifest["cases"].items():
        if args.cases and case not in args.cases:
            continue
        c = {}
        fam_rep["cases"][case] = c
        try:
            # kvbench on this device
            mpath = os.path.join(tmp, f"{fam}_{case}.json")
            json.dump(messages_for(fam, gdir, meta), open(mpath, "w"))
            kvpath = os.path.join(tmp, f"{fam}_{case}.safetensors")
            r = run_kvbench([args.kvbench, "dump-kv", "--model", ck, "--messages", mpath, "--device", args.device,
                             "--dtype", args.dtype, "--queries", "0", "--out", kvpath], args.case_timeout)
            if r["rc"] != 0:
                c["error"] = "kvbench dump-kv failed: " + r["stderr"][-2000:]
                continue
            kv = read_safetensors(kvpath)
            # HF on this device, the goldens' own inputs
            with torch.no_grad():
                out = model(**hf_inputs(fam, case, meta, golden, args.device, dtype), use_cache=True)
            past = out.past_key_values
            c["tokens"] = int(golden[f"{case}.input_ids"].numel())
            c["kvbench_vs_hf"], c["hf_device_vs_cpu_golden"], c["kvbench_vs_cpu_golden"] = {}, {}, {}
            for layer in range(n_layers(past)):
                hk, hv = hf_kv(past, layer)
                for what, h in (("keys", hk), ("values", hv)):
                    name = f"{what}.{layer}"
                    c["kvbench_vs_hf"][name] = compare(kv[f"layers.{layer}.{what}"], h, args.dtype)
                    gkey = f"{case}.{args.dtype}.{what}.{layer}"
                    if gkey in golden:
                        gold = golden[gkey].float()
                        c["hf_device_vs_cpu_golden"][name] = compare(h, gold, args.dtype)
                        c["kvbench_vs_cpu_golden"][name] = compare(kv[f"layers.{layer}.{what}"], gold, args.dtype)
            gl = f"{case}.{args.dtype}.last_logits"
            if gl in golden:
                c["hf_device_vs_cpu_golden"]["last_logits"] = compare(out.logits[0, -1].float().cpu(),
                                                                      golden[gl].float(), args.dtype)
            c["ok"] = all(v.get("ok") for v in c["kvbench_vs_hf"].values()) and bool(c["kvbench_vs_hf"])
        except Exception as e:  # noqa: BLE001  (recorded per case; the other cases still run)
            c["error"] = f"{type(e).__name__}: {e}"
    del model
    if args.device.startswith("cuda"):
        torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kvbench", default=os.path.join(ROOT, "build-gpu/kvbench"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--case-timeout", type=int, default=60)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    args.cases = [c for c in args.cases.split(",") if c]
    report = {"device": args.device, "dtype": args.dtype, "versions": versions(), "families": {},
              "tolerance": "float32: 1e-4 abs; bfloat16: 4 bf16 ulps of max |HF| per tensor (parity tests)"}
    with tempfile.TemporaryDirectory(prefix="kvb_parity_") as tmp:
        for fam in args.families.split(","):
            try:
                run_family(fam, args, tmp, report)
            except Exception as e:  # noqa: BLE001
                report["families"].setdefault(fam, {})["error"] = f"{type(e).__name__}: {e}"
    cases = [c for f in report["families"].values() for c in f.get("cases", {}).values()]
    report["cases_run"] = len(cases)
    report["cases_ok"] = sum(1 for c in cases if c.get("ok"))
    report["pass"] = bool(cases) and report["cases_ok"] == len(cases) and \
        not any("error" in f for f in report["families"].values())
    write_json(args.out, report)
    print(f"parity {args.device} {args.dtype}: {report['cases_ok']}/{len(cases)} cases within tolerance -> {args.out}")
    sys.exit(0 if report["pass"] else (2 if not cases else 1))


if __name__ == "__main__":
    main()
