#!/usr/bin/env python3
"""HF-transformers goldens for kvbench's tiny Qwen2.5-VL checkpoint (read by tests/parity/qwen/test_qwen_hf_parity.cpp).

Made on the CPU with the recipe in ../shared/tools/hf-cpu (transformers 4.50.0 on Debian's torch 1.13):

    build/kvbench make-tiny-model --family qwen2_5_vl --seed 7 --out /tmp/tiny_qwen
    $PY ../shared/tools/hf-cpu/make_slow_tok_dir.py /tmp/tiny_qwen /tmp/tiny_qwen_slow
    $PY ../shared/tools/hf-cpu/run_make_goldens.py --model /tmp/tiny_qwen_slow --checkpoint /tmp/tiny_qwen \
        --out tests/parity/qwen/goldens

(or simply `bash tests/parity/qwen/make_goldens.sh`). For every case and dtype (float32, bfloat16) it writes
the input ids, pixel values and grids, M-RoPE position ids, every layer's post-RoPE K/V (from HF's KV
cache), the last queries (post-RoPE, recorded from HF's own apply_multimodal_rotary_pos_emb), the
prefill's last-position logits over the whole vocabulary, and the greedy continuation with HF's top-2
margin at each step. Media are written as 24-bit BMP so that every kvbench build decodes the same pixels.
Nothing here is compared with kvbench's output; the C++ test compares kvbench with these files.
"""

import argparse
import json
import os
import platform
import sys

import numpy as np
import PIL
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from goldens_common import git_commit, sha256  # noqa: E402  (tests/parity)

import transformers
from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration
from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as hf_qwen

SEED = 7                 # `kvbench make-tiny-model --seed 7`
GREEDY_TOKENS = 16
LAST_QUERIES = 5         # queries of the last positions, as kvbench's window queries
TF_TREE = ("github.com/shenlongbin/transformers_4_50_0_shopee_album commit 4ce414de0cf4be4eda137d4ff908151fe4b230f2 "
           "(a public copy of the 4.50.0 tree, not byte-compared with the official tag) + the hf-cpu HFCPU-PATCH edits")

# (width, height). one_image's height crosses the vision tower's 112-pixel attention window, so the
# window/full-attention block split matters; the others are small and of odd sizes.
IMAGES = {"img_97x213": (97, 213), "img_59x83": (59, 83), "img_121x45": (121, 45)}
VIDEO_FRAMES, VIDEO_W, VIDEO_H, VIDEO_FPS = 5, 101, 67, 2.0  # odd count and size: padding and resize happen


def synthetic_image(width, height, seed):
    """Smooth gradients plus seeded noise: exercises the bicubic resize and every channel."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / max(width, 1) * 6.0 + seed)
    g = 127.5 + 127.5 * np.cos(y / max(height, 1) * 5.0 - seed)
    b = (x * 3 + y * 7 + seed * 13) % 256
    img = np.stack([r, g, b], -1) + rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def long_text():
    colours = ["red", "green", "blue", "amber", "violet", "silver", "copper"]
    things = ["lantern", "kettle", "harbour", "meadow", "violin", "glacier", "orchard", "compass"]
    parts = [f"Note {i}: the {colours[i % 7]} {things[(i * 3) % 8]} stood {i + 2} steps from the {things[(i * 5 + 1) % 8]}."
             for i in range(48)]
    return " ".join(parts) + " Which note mentions the copper violin?"


def get_rope_index(model, **kw):
    owner = model.model if hasattr(model.model, "get_rope_index") else model  # moved to .model in 4.52
    return owner.get_rope_index(**kw)


class QueryRecorder:
    """Wraps HF's apply_multimodal_rotary_pos_emb to keep each layer's post-RoPE queries of one forward."""

    def __init__(self):
        self.active, self.queries = False, []
        self.orig = hf_qwen.apply_multimodal_rotary_pos_emb

    def __call__(self, q, k, cos, sin, mrope_section, unsqueeze_dim=1):
        q_embed, k_embed = self.orig(q, k, cos, sin, mrope_section, unsqueeze_dim)
        if self.active:
            self.queries.append(q_embed[0].detach().clone())  # [Hq, T, D]
        return q_embed, k_embed


def cases():
    t = lambda s: {"type": "text", "text": s}
    img = lambda n: {"type": "image", "file": f"media/{n}.bmp"}
    return {
        "text": [t("Write one sentence about the sea.")],
        "one_image": [img("img_97x213"), t("Describe this image.")],
        "two_images": [t("Compare the first picture"), img("img_59x83"), t("with the second"), img("img_121x45"),
                       t("and say which is brighter.")],
        "video": [{"type": "video", "folder": "media/video", "fps": VIDEO_FPS}, t("What happens in this clip?")],
        "long_text": [t(long_text())],
    }


def hf_messages(content):
    return [{"role": "user", "content": [{"type": c["type"], "text": c["text"]} if c["type"] == "text"
                                         else {"type": c["type"]} for c in content]}]


def fetch_frames(frames):
    """qwen-vl-utils' fetch_video for a list of images (transcribed): fetch_image on each frame
    (smart_resize with MIN_PIXELS = 4*28*28, MAX_PIXELS = 16384*28*28, then PIL's default
    bicubic resize), count padded to FRAME_FACTOR = 2 with the last frame."""
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize
    out = []
    for f in frames:
        h, w = smart_resize(f.height, f.width, factor=28, min_pixels=4 * 28 * 28, max_pixels=16384 * 28 * 28)
        out.append(f.resize((w, h), Image.BICUBIC))
    while len(out) % 2:
        out.append(out[-1])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the checkpoint folder with vocab.json/merges.txt (make_slow_tok_dir.py)")
    ap.add_argument("--checkpoint", required=True, help="the folder `kvbench make-tiny-model --seed 7` wrote (hashed)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out_dir = args.out
    os.makedirs(os.path.join(out_dir, "media", "video"), exist_ok=True)
    torch.manual_seed(0)
    recorder = QueryRecorder()
    hf_qwen.apply_multimodal_rotary_pos_emb = recorder

    images = {}
    for i, (name, (w, h)) in enumerate(IMAGES.items()):
        images[name] = synthetic_image(w, h, seed=i + 1)
        images[name].save(os.path.join(out_dir, "media", name + ".bmp"))
    frames = []
    for f in range(VIDEO_FRAMES):
        frames.append(synthetic_image(VIDEO_W, VIDEO_H, seed=100 + f))
        frames[-1].save(os.path.join(out_dir, "media", "video", f"frame_{f:03d}.bmp"))
    video = fetch_frames(frames)

    processor = AutoProcessor.from_pretrained(args.model)
    files = sorted(f for f in os.listdir(args.checkpoint) if os.path.isfile(os.path.join(args.checkpoint, f)))
    meta = {
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "made_by": "tests/parity/qwen/make_goldens.py at kvbench commit " + git_commit(out_dir),
        "transformers": transformers.__version__, "transformers_tree": TF_TREE, "torch": torch.__version__,
        "python": platform.python_version(), "numpy": np.__version__, "pillow": PIL.__version__,
        "tokenizer": "slow Qwen2Tokenizer (use_fast=False: the Rust tokenizers package is absent)",
        "attn_implementation": "eager", "device": "cpu",
        "checkpoint": {"make_tiny_model": f"kvbench make-tiny-model --family qwen2_5_vl --seed {SEED}", "seed": SEED,
                       "sha256": {f: sha256(os.path.join(args.checkpoint, f)) for f in files}},
        "last_queries": LAST_QUERIES, "greedy_tokens": GREEDY_TOKENS, "cases": {},
    }
    tensors = {}
    for dtype_name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model, info = Qwen2_5_VLForConditionalGeneration.from_pretrained(
            args.model, torch_dtype=dtype, attn_implementation="eager", output_loading_info=True)
        bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
        if bad:
            sys.exit(f"checkpoint does not load cleanly: {bad}")
        model.eval()
        for name, content in cases().items():
            messages = hf_messages(content)
            text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            kw = {}
            imgs = [images[os.path.basename(c["file"])[:-4]] for c in content if c["type"] == "image"]
            if imgs:
                kw["images"] = imgs
            if any(c["type"] == "video" for c in content):
                kw["videos"], kw["fps"] = [video], [VIDEO_FPS]
            inputs = processor(text=[text], return_tensors="pt", **kw)
            key = f"{name}.{dtype_name}."
            with torch.no_grad():
                rope_kw = {k: inputs.get(k) for k in ("image_grid_thw", "video_grid_thw", "second_per_grid_ts")}
                if rope_kw["second_per_grid_ts"] is not None:
                    rope_kw["second_per_grid_ts"] = torch.as_tensor(rope_kw["second_per_grid_ts"])
                pos, delta = get_rope_index(model, input_ids=inputs["input_ids"],
                                            attention_mask=inputs["attention_mask"], **rope_kw)
                recorder.active, recorder.queries = True, []
                out = model(**inputs, use_cache=True, return_dict=True)
                recorder.active = False
                gen = model.generate(**inputs, max_new_tokens=GREEDY_TOKENS, do_sample=False, num_beams=1,
                                     output_logits=True, return_dict_in_generate=True)
            cache = out.past_key_values
            layers = len(cache.key_cache)
            assert len(recorder.queries) == layers, (len(recorder.queries), layers)
            for l in range(layers):
                tensors[key + f"keys.{l}"] = cache.key_cache[l][0].contiguous()      # [Hkv, T, D] post-RoPE
                tensors[key + f"values.{l}"] = cache.value_cache[l][0].contiguous()
                tensors[key + f"queries.{l}"] = recorder.queries[l][:, -LAST_QUERIES:].contiguous()
            tensors[key + "last_logits"] = out.logits[0, -1].contiguous()
            new = gen.sequences[0, inputs["input_ids"].shape[1]:]
            margins = []
            for step in gen.logits:
                top2 = step[0].float().topk(2).values
                margins.append(float(top2[0] - top2[1]))
            tensors[key + "greedy_tokens"] = new.long().contiguous()
            tensors[key + "greedy_margins"] = torch.tensor(margins, dtype=torch.float32)
            if dtype_name == "float32":  # inputs do not depend on the model's dtype
                tensors[name + ".input_ids"] = inputs["input_ids"][0].long().contiguous()
                tensors[name + ".position_ids"] = pos[:, 0].long().contiguous()  # [3, T]
                for k in ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw"):
                    if inputs.get(k) is not None:
                        tensors[name + "." + k] = inputs[k].contiguous()
                meta["cases"][name] = {
                    "content": content, "text": text, "tokens": int(inputs["input_ids"].shape[1]),
                    "rope_delta": int(delta.flatten()[0]),
                    "second_per_grid_ts": [float(x) for x in inputs["second_per_grid_ts"]]
                    if inputs.get("second_per_grid_ts") is not None else None,
                    "greedy": {},
                }
            meta["cases"][name]["greedy"][dtype_name] = {
                "tokens": new.tolist(), "text": processor.tokenizer.decode(new, skip_special_tokens=True),
                "min_margin": min(margins)}
            print(f"{name} {dtype_name}: T={inputs['input_ids'].shape[1]} greedy={new.tolist()}", flush=True)
        del model

    from safetensors.torch import save_file
    save_file(tensors, os.path.join(out_dir, "goldens.safetensors"), metadata={"transformers": transformers.__version__})
    with open(os.path.join(out_dir, "goldens.json"), "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    print(f"wrote {len(tensors)} tensors to {out_dir} (transformers {transformers.__version__}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
