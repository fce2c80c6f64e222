#!/usr/bin/env python3
"""HF-transformers goldens for kvbench's tiny Qwen2.5-VL checkpoint.

Run on a machine with torch + transformers (the GPU machine; the model runs on CPU in float32
so the numbers do not depend on GPU kernels):

    build/kvbench make-tiny-model --family qwen2_5_vl --seed 7 --out /tmp/tiny_qwen
    python3 tests/parity/qwen/make_goldens.py --model /tmp/tiny_qwen --out tests/parity/qwen/goldens

Writes into --out:
  images/*.png, video/frame_*.png   the synthetic inputs (lossless PNG, so C++ decodes the same pixels)
  goldens.safetensors               pixel values, grids, M-RoPE position ids, final hidden states,
                                    last-position logits, greedy tokens, per case
  goldens.json                      versions (transformers, torch, tokenizers, python), the checkpoint's
                                    sha256, prompts, rendered texts, input ids, shapes, rope deltas
Nothing here is compared with kvbench's own output; the C++ parity test reads these files.
"""
import argparse
import hashlib
import json
import os
import platform
import sys

import numpy as np
import torch
from PIL import Image

import transformers
from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

try:
    import tokenizers
    TOKENIZERS_VERSION = tokenizers.__version__
except ImportError:  # pragma: no cover
    TOKENIZERS_VERSION = None

IMAGE_SIZES = {"img_97x213": (97, 213), "img_640x480": (640, 480), "img_1000x30": (1000, 30)}  # (width, height)
VIDEO_FRAMES, VIDEO_W, VIDEO_H, VIDEO_FPS = 4, 336, 308, 2.0  # frames already multiples of 28 (no resize)
GREEDY_TOKENS = 16


def synthetic_image(width, height, seed):
    """Smooth gradients plus seeded noise: exercises the bicubic resize and every channel."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / max(width, 1) * 6.0 + seed)
    g = 127.5 + 127.5 * np.cos(y / max(height, 1) * 5.0 - seed)
    b = (x * 3 + y * 7 + seed * 13) % 256
    img = np.stack([r, g, b], -1) + rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def get_rope_index(model, **kw):
    # The method moved from the ForConditionalGeneration class to .model in transformers 4.52.
    owner = model.model if hasattr(model.model, "get_rope_index") else model
    return owner.get_rope_index(**kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="folder written by `kvbench make-tiny-model --seed 7`")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "video"), exist_ok=True)
    torch.manual_seed(0)

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
        args.model, torch_dtype=torch.float32, attn_implementation="eager", output_loading_info=False)
    # No missing / unexpected weights: from_pretrained with output_loading_info tells.
    _, info = Qwen2_5_VLForConditionalGeneration.from_pretrained(
        args.model, torch_dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if bad:
        sys.exit(f"checkpoint does not load cleanly: {bad}")
    model.eval()
    processor = AutoProcessor.from_pretrained(args.model)

    tensors, meta = {}, {
        "transformers": transformers.__version__, "torch": torch.__version__, "tokenizers": TOKENIZERS_VERSION,
        "python": platform.python_version(), "numpy": np.__version__,
        "checkpoint_sha256": sha256(os.path.join(args.model, "model.safetensors")),
        "checkpoint_seed": 7, "attn_implementation": "eager", "dtype": "float32", "images": {}, "cases": {},
    }

    # 1. Images: pixel_values / image_grid_thw, one image at a time.
    images = {}
    for i, (name, (w, h)) in enumerate(IMAGE_SIZES.items()):
        img = synthetic_image(w, h, seed=i + 1)
        path = os.path.join(args.out, "images", name + ".png")
        img.save(path)
        images[name] = img
        out = processor.image_processor(images=[img], return_tensors="pt")
        tensors[f"{name}.pixel_values"] = out["pixel_values"].float().contiguous()
        tensors[f"{name}.image_grid_thw"] = out["image_grid_thw"].long().contiguous()
        meta["images"][name] = {"file": f"images/{name}.png", "width": w, "height": h,
                                "grid_thw": out["image_grid_thw"].tolist()}

    # 2. Video: frames already at their final size, passed as an array (frame sampling is
    # qwen-vl-utils' business and has its own tests).
    frames = []
    for f in range(VIDEO_FRAMES):
        img = synthetic_image(VIDEO_W, VIDEO_H, seed=100 + f)
        img.save(os.path.join(args.out, "video", f"frame_{f}.png"))
        frames.append(np.asarray(img))
    video = np.stack(frames)  # [T, H, W, 3] uint8

    # 3. Prompts.
    cases = {
        "text": [{"role": "user", "content": [{"type": "text", "text": "Write one sentence about the sea."}]}],
        "one_image": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}],
        "two_images": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Compare"},
                                                    {"type": "image"}, {"type": "text", "text": "these two."}]}],
        "video": [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "What happens?"}]}],
    }
    case_images = {"one_image": ["img_97x213"], "two_images": ["img_640x480", "img_1000x30"]}
    meta["video"] = {"frames": [f"video/frame_{f}.png" for f in range(VIDEO_FRAMES)], "fps": VIDEO_FPS}

    with torch.no_grad():
        for name, messages in cases.items():
            text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            kw = {}
            if name in case_images:
                kw["images"] = [images[n] for n in case_images[name]]
            if name == "video":
                kw["videos"] = [video]
                kw["fps"] = [VIDEO_FPS]
            inputs = processor(text=[text], return_tensors="pt", **kw)
            rope_kw = {k: inputs.get(k) for k in ("image_grid_thw", "video_grid_thw", "second_per_grid_ts")}
            if rope_kw["second_per_grid_ts"] is not None:
                rope_kw["second_per_grid_ts"] = torch.as_tensor(rope_kw["second_per_grid_ts"])
            pos, delta = get_rope_index(model, input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                                        **rope_kw)
            out = model(**inputs, output_hidden_states=True, return_dict=True)
            gen = model.generate(**inputs, max_new_tokens=GREEDY_TOKENS, do_sample=False, num_beams=1)
            new = gen[0, inputs["input_ids"].shape[1]:]
            p = name + "."
            tensors[p + "input_ids"] = inputs["input_ids"][0].long().contiguous()
            tensors[p + "position_ids"] = pos[:, 0].long().contiguous()  # [3, T]
            tensors[p + "last_hidden_state"] = out.hidden_states[-1][0].float().contiguous()  # after the final norm
            tensors[p + "last_logits"] = out.logits[0, -1].float().contiguous()
            tensors[p + "greedy_tokens"] = new.long().contiguous()
            for k in ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw"):
                if inputs.get(k) is not None:
                    tensors[p + k] = inputs[k].contiguous()
            meta["cases"][name] = {
                "messages": messages, "images": case_images.get(name, []), "video": name == "video",
                "text": text, "tokens": int(inputs["input_ids"].shape[1]), "rope_delta": int(delta.flatten()[0]),
                "second_per_grid_ts": [float(x) for x in inputs["second_per_grid_ts"]]
                if inputs.get("second_per_grid_ts") is not None else None,
                "greedy_tokens": new.tolist(),
                "greedy_text": processor.tokenizer.decode(new, skip_special_tokens=True),
            }

    from safetensors.torch import save_file
    save_file(tensors, os.path.join(args.out, "goldens.safetensors"), metadata={"transformers": transformers.__version__})
    with open(os.path.join(args.out, "goldens.json"), "w") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
    print(f"wrote {len(tensors)} tensors to {args.out} (transformers {transformers.__version__}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
