#!/usr/bin/env python3
"""End to end on a random-weight Qwen2.5-VL checkpoint: kvbench `generate` (Full and each method at
rho) beside HF transformers' `generate` (sdpa) on the same weights, prompt and image.

  * checkpoint: `kvbench make-tiny-model --family qwen2_5_vl --geometry 7b` (random bf16 weights,
    the published 7B shapes; --geometry tiny for a dry run), made once into --work;
  * prompt: one image sized so that prompt tokens ~= --tokens (28-px merged patches), one question;
  * kvbench: `generate --device D --dtype T --max-new-tokens N --json` per method, one process each
    (model load excluded from the figures: vision/prefill/compress/decode times come from kvbench);
    decode tokens/s = decode steps / sum(decode_ms); peak memory = nvidia-smi memory.used of the
    whole GPU sampled every 50 ms (on CPU: the process's peak RSS);
  * HF: the same folder through AutoProcessor + Qwen2_5_VLForConditionalGeneration (sdpa), greedy,
    min_new_tokens = max_new_tokens = the steps kvbench's Full run made (so both decode the same
    count even if a random model hits EOS); prefill = a generate of 1 token, decode tokens/s =
    (N - 1) / (t(N) - t(1)); peak = torch.cuda.max_memory_reserved and nvidia-smi's peak.
Each kvbench run is time-boxed; methods that would start past --deadline-s are skipped and listed.
Writes one JSON (--out). Exit 0 when Full, HF and at least one method ran.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import GpuMemPoller, load_json_output, run_kvbench, versions, write_json  # noqa: E402

T0 = time.time()


def left(args):
    return args.deadline_s - (time.time() - T0)


def make_image(path, ckpt, target_tokens, text_tokens):
    """A BMP whose merged-patch grid gives ~target_tokens - text_tokens image tokens (no resize needed)."""
    import numpy as np
    from PIL import Image
    pre = json.load(open(os.path.join(ckpt, "preprocessor_config.json")))
    unit = pre["patch_size"] * pre["merge_size"]
    want = max(4, target_tokens - text_tokens)
    a = max(2, int(math.sqrt(want)))
    b = max(2, want // a)
    rng = np.random.RandomState(0)
    y, x = np.mgrid[0:a * unit, 0:b * unit].astype(np.float32)
    img = np.stack([127 + 100 * np.sin(x / 97.0), 127 + 100 * np.cos(y / 61.0), (x + y) % 256], -1)
    img += rng.normal(0, 10, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(path, format="BMP")
    return {"width": b * unit, "height": a * unit, "image_tokens": a * b}


def kvbench_run(args, ckpt, image, method, steps):
    cmd = [args.kvbench, "generate", "--model", ckpt, "--image", image, "--prompt", args.prompt,
           "--device", args.device, "--dtype", args.dtype, "--max-new-tokens", str(steps), "--method", method,
           "--ratio", "1" if method == "full" else str(args.ratio), "--json"]
    r = run_kvbench(cmd, max(10, min(args.run_timeout, left(args) - 5)))
    rec = {"method": method, "wall_s": r["seconds"], "peak_gpu_mib_nvsmi": r["peak_gpu_mib"],
           "peak_rss_mib": r["peak_rss_mib"], "rc": r["rc"]}
    if r["rc"] != 0:
        rec["error"] = r["stderr"][-1500:]
        return rec
    j = load_json_output(r["stdout"])
    dec = j.get("decode_ms", [])
    rec.update({k: j.get(k) for k in ("prompt_tokens", "media_tokens", "vision_ms", "prefill_ms", "compress_ms",
                                      "decode_ms_total", "kv_bytes_before", "kv_bytes_after", "stop_reason")})
    rec["generated"] = len(j.get("ids", []))
    rec["decode_steps"] = len(dec)
    rec["decode_tok_s"] = len(dec) / (sum(dec) / 1000.0) if dec and sum(dec) > 0 else None
    rec["ids"] = j.get("ids", [])
    return rec


def hf_run(args, ckpt, image, steps):
    """HF generate in this process (so its CUDA memory counters are its own)."""
    import torch
    import transformers
    from PIL import Image
    rec = {"method": f"hf_generate_{args.hf_attn}", "transformers": transformers.__version__}
    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}[args.dtype]
    t0 = time.time()
    cls = transformers.Qwen2_5_VLForConditionalGeneration
    try:
        model = cls.from_pretrained(ckpt, dtype=dtype, attn_implementation=args.hf_attn)
    except TypeError:
        model = cls.from_pretrained(ckpt, torch_dtype=dtype, attn_implementation=args.hf_attn)
    model = model.to(args.device).eval()
    proc = transformers.AutoProcessor.from_pretrained(args.hf_processor_dir or ckpt)
    rec["load_s"] = time.time() - t0
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": args.prompt}]}]
    text = proc.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = proc(text=[text], images=[Image.open(image).convert("RGB")], return_tensors="pt").to(args.device)
    rec["prompt_tokens"] = int(inputs["input_ids"].shape[1])
    cuda = args.device.startswith("cuda")

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def gen(n):
        sync()
        t = time.time()
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=n, min_new_tokens=n, do_sample=False)
        sync()
        return time.time() - t, out

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with GpuMemPoller() as mem:
        gen(1)  # warm-up (kernels, allocator); its time is not reported
        t1, _ = gen(1)
        tn, out = gen(steps)
    rec["prefill_plus_first_token_ms"] = t1 * 1000.0
    rec["decode_steps"] = steps - 1
    rec["decode_tok_s"] = (steps - 1) / (tn - t1) if steps > 1 and tn > t1 else None
    rec["total_ms"] = tn * 1000.0
    rec["ids"] = out[0, inputs["input_ids"].shape[1]:].tolist()
    rec["peak_gpu_mib_nvsmi"] = mem.peak
    if cuda:
        rec["torch_max_reserved_mib"] = torch.cuda.max_memory_reserved() / 2**20
        rec["torch_max_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
    del model
    if cuda:
        torch.cuda.empty_cache()
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kvbench", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--geometry", default="7b")
    ap.add_argument("--tokens", type=int, default=8192)
    ap.add_argument("--decode", type=int, default=128)
    ap.add_argument("--ratio", type=float, default=0.2)
    ap.add_argument("--methods", default="flashcache,snapkv,pyramidkv,adakv,h2o,lookm,meda,mixkv,streaming_llm")
    ap.add_argument("--prompt", default="Describe this image in detail.")
    ap.add_argument("--work", default="/tmp/kvb_e2e")
    ap.add_argument("--hf-processor-dir", default="", help="processor folder for HF (default: the checkpoint)")
    ap.add_argument("--skip-hf", action="store_true")
    ap.add_argument("--hf-attn", default="sdpa", help="HF attn_implementation (eager where torch < 2.1.1)")
    ap.add_argument("--run-timeout", type=int, default=90)
    ap.add_argument("--deadline-s", type=float, default=240, help="start nothing new after this many seconds")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rep = {"device": args.device, "dtype": args.dtype, "geometry": args.geometry, "target_tokens": args.tokens,
           "decode_steps_asked": args.decode, "ratio": args.ratio, "versions": versions(), "runs": [], "skipped": []}
    os.makedirs(args.work, exist_ok=True)
    ckpt = os.path.join(args.work, f"qwen2_5_vl_{args.geometry}")
    t = time.time()
    if not os.path.exists(os.path.join(ckpt, "config.json")):
        r = run_kvbench([args.kvbench, "make-tiny-model", "--family", "qwen2_5_vl", "--geometry", args.geometry,
                         "--seed", "1", "--out", ckpt], max(10, left(args) - 30))
        if r["rc"] != 0:
            rep["error"] = "make-tiny-model failed: " + r["stderr"][-2000:]
            write_json(args.out, rep)
            sys.exit(1)
    rep["checkpoint_s"] = time.time() - t
    image = os.path.join(args.work, f"image_{args.tokens}.bmp")
    rep["image"] = make_image(image, ckpt, args.tokens, 30)
    full = kvbench_run(args, ckpt, image, "full", args.decode)
    rep["runs"].append(full)
    steps = full.get("generated") or args.decode
    if not args.skip_hf:
        if left(args) > 20:
            try:
                rep["hf"] = hf_run(args, ckpt, image, max(2, steps))
            except Exception as e:  # noqa: BLE001  (recorded; the kvbench runs go on)
                rep["hf"] = {"error": f"{type(e).__name__}: {e}"}
        else:
            rep["skipped"].append("hf_generate")
    for m in [m for m in args.methods.split(",") if m]:
        if left(args) < max(15, 1.2 * full.get("wall_s", 0)):
            rep["skipped"].append(m)
            continue
        rep["runs"].append(kvbench_run(args, ckpt, image, m, args.decode))
    base = full.get("decode_tok_s")
    for r in rep["runs"]:
        if base and r.get("decode_tok_s"):
            r["decode_speedup_vs_full"] = r["decode_tok_s"] / base
    hf = rep.get("hf", {})
    if base and hf.get("decode_tok_s"):
        rep["kvbench_full_vs_hf_decode"] = base / hf["decode_tok_s"]
    if full.get("ids") and hf.get("ids"):
        same = 0
        for a, b in zip(full["ids"], hf["ids"]):
            if a != b:
                break
            same += 1
        rep["full_vs_hf_same_prefix_tokens"] = same
    for r in rep["runs"] + ([hf] if hf else []):
        r.pop("ids", None)
    rep["elapsed_s"] = time.time() - T0
    ok = "decode_tok_s" in full and full["decode_tok_s"] and (args.skip_hf or hf.get("decode_tok_s")) and \
        any(r.get("decode_tok_s") for r in rep["runs"][1:])
    rep["pass_ran"] = bool(ok)
    write_json(args.out, rep)
    print(json.dumps({k: rep[k] for k in ("elapsed_s", "skipped", "pass_ran")}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
