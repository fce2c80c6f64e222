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
import os
import sys

import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from goldens_common import (QueryRecorder, capture, hf_content, image, load_model, long_text,  # noqa: E402
                            manifest, store_greedy, text, top2_margins, write_frames, write_goldens, write_images)

from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration
from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as hf_qwen

SEED = 7                 # `kvbench make-tiny-model --seed 7`
GREEDY_TOKENS = 16
LAST_QUERIES = 5         # queries of the last positions, as kvbench's window queries

# (width, height). one_image's height crosses the vision tower's 112-pixel attention window, so the
# window/full-attention block split matters; the others are small and of odd sizes.
IMAGES = {"img_97x213": (97, 213), "img_59x83": (59, 83), "img_121x45": (121, 45)}
VIDEO_FRAMES, VIDEO_W, VIDEO_H, VIDEO_FPS = 5, 101, 67, 2.0  # odd count and size: padding and resize happen


def get_rope_index(model, **kw):
    owner = model.model if hasattr(model.model, "get_rope_index") else model  # moved to .model in 4.52
    return owner.get_rope_index(**kw)


def cases():
    t, img = text, image
    return {
        "text": [t("Write one sentence about the sea.")],
        "one_image": [img("img_97x213"), t("Describe this image.")],
        "two_images": [t("Compare the first picture"), img("img_59x83"), t("with the second"), img("img_121x45"),
                       t("and say which is brighter.")],
        "video": [{"type": "video", "folder": "media/video", "fps": VIDEO_FPS}, t("What happens in this clip?")],
        "long_text": [t(long_text(48))],
    }


def hf_messages(content):
    return [{"role": "user", "content": hf_content(content)}]


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
    recorder = QueryRecorder.install(hf_qwen, "apply_multimodal_rotary_pos_emb")

    images = write_images(IMAGES, out_dir)
    video = fetch_frames(write_frames(VIDEO_FRAMES, VIDEO_W, VIDEO_H, 100, out_dir))

    processor = AutoProcessor.from_pretrained(args.model)
    meta = manifest("tests/parity/qwen/make_goldens.py", out_dir, args.checkpoint, "qwen2_5_vl", SEED,
                    "slow Qwen2Tokenizer (use_fast=False: the Rust tokenizers package is absent)", LAST_QUERIES,
                    GREEDY_TOKENS)
    tensors = {}
    for dtype_name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model = load_model(Qwen2_5_VLForConditionalGeneration, args.model, dtype)
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
            out, gen = capture(model, inputs, recorder, key, tensors, GREEDY_TOKENS, LAST_QUERIES)
            tensors[key + "last_logits"] = out.logits[0, -1].contiguous()
            new = gen.sequences[0, inputs["input_ids"].shape[1]:]
            margins = top2_margins(gen)
            store_greedy(tensors, key, new, margins)
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
    write_goldens(out_dir, tensors, meta)


if __name__ == "__main__":
    main()
