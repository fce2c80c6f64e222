#!/usr/bin/env python3
"""HF-transformers goldens for kvbench's tiny LLaVA-OneVision checkpoint (read by
tests/parity/llava_onevision/test_llava_onevision_hf_parity.cpp). Run by make_goldens.sh beside this file:

    build/kvbench make-tiny-model --family llava_onevision --seed 13 --out /tmp/tiny_ov
    $PY ../shared/tools/hf-cpu/make_slow_tok_dir.py /tmp/tiny_ov /tmp/tiny_ov_slow
    $PY tests/parity/llava_onevision/make_goldens.py --model /tmp/tiny_ov_slow --checkpoint /tmp/tiny_ov \
        --real-config ../shared/reference/hf/llava-onevision-qwen2-7b-ov-hf --out tests/parity/llava_onevision/goldens

Everything comes from HF itself: LlavaOnevisionProcessor.from_pretrained (the slow Qwen2Tokenizer, since the
Rust `tokenizers` package is absent; LlavaOnevisionImageProcessor and the video processor from
preprocessor_config.json; processor_config.json; chat_template.json via apply_chat_template) and
LlavaOnevisionForConditionalGeneration (attn_implementation="eager"). For every case and dtype (float32,
bfloat16): input ids, pixel values (per image, without the batch padding), every layer's post-RoPE K/V (HF's
KV cache), the last queries (post-RoPE, recorded from HF's qwen2 apply_rotary_pos_emb), the prefill's
last-position logits and the greedy continuation with HF's top-2 margins and a cache-free HF argmax per step.
Besides, processor-only goldens at the published 384 px geometry (the real preprocessor_config.json and
num_image_tokens 729): token counts and every 5th pixel row/column of each tile, for odd sizes including
64x48 (1317 tokens) and 1x2 / 2x1 tile grids (the pooling is exercised by the tiny checkpoint's 283x211,
since at 384 px it needs images of megabytes). Media are 24-bit BMP so that every kvbench build decodes the same pixels.
Nothing here is compared with kvbench's output; the C++ test compares kvbench with these files.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from goldens_common import (QueryRecorder, capture, chat_cases, greedy_record, hf_content,  # noqa: E402
                            load_model, manifest, store_greedy, synthetic_image, text, top2_margins, uncached_argmax,
                            user, write_frames, write_goldens, write_images)

import transformers
from transformers import (AutoProcessor, LlavaOnevisionForConditionalGeneration, LlavaOnevisionImageProcessor,
                          LlavaOnevisionProcessor, LlavaOnevisionVideoProcessor)
from transformers.models.qwen2 import modeling_qwen2 as hf_qwen2

SEED = 13                # `kvbench make-tiny-model --family llava_onevision --seed 13`
GREEDY_TOKENS = 12
LAST_QUERIES = 5

# (width, height) with the tiny checkpoint's 70 px tiles: 173x131 is a 2x3 grid with a column of
# cells unpadded on each side; 211x83 a 2x4 grid unpadded top and bottom; 283x211 a 4x5 grid large
# enough for the anyres_max_9 bilinear pooling. Video frames are 45x37 (squashed to 70x70).
IMAGES = {"img_173x131": (173, 131), "img_211x83": (211, 83), "img_283x211": (283, 211)}
VIDEO_FRAMES = 4
VIDEO_SIZE = (45, 37)
# Processor-only, at the published geometry (w, h).
REAL_SIZES = [(64, 48), (401, 97), (97, 389)]
REAL_STRIDE = 5


def cases():
    """Chat messages per case; a video is {"type": "video", "file": <folder>} (kvbench reads the frames)."""
    return chat_cases("img_173x131", ("img_211x83", "img_283x211"),
                      video=[{"role": "system", "content": [text("You are a careful observer.")]},
                             user({"type": "video", "file": "media/video"}, text("What happens in this video?"))])


def hf_messages(messages):
    return [{"role": m["role"], "content": hf_content(m["content"])} for m in messages]


def real_geometry(real_dir, tokenizer_dir, out_dir, tensors, meta):
    """The published processor (preprocessor_config.json, num_image_tokens 729) on odd sizes."""
    ip = LlavaOnevisionImageProcessor.from_pretrained(real_dir)
    tok = AutoProcessor.from_pretrained(tokenizer_dir, use_fast=False).tokenizer
    proc = LlavaOnevisionProcessor(image_processor=ip, tokenizer=tok, video_processor=LlavaOnevisionVideoProcessor(), num_image_tokens=729,
                                   vision_feature_select_strategy="full")
    image_id = tok.convert_tokens_to_ids("<image>")
    meta["real_geometry"] = {"config": "preprocessor_config.json of ../shared/reference/hf/llava-onevision-qwen2-7b-ov-hf",
                             "num_image_tokens": 729, "stride": REAL_STRIDE, "images": {}}
    for i, (w, h) in enumerate(REAL_SIZES):
        name = f"real_{w}x{h}"
        im = synthetic_image(w, h, seed=20 + i)
        im.save(os.path.join(out_dir, "media", name + ".bmp"))
        inputs = proc(images=im, text="<image>", return_tensors="pt")
        tokens = int((inputs["input_ids"][0] == image_id).sum())
        pv = inputs["pixel_values"][0]
        tensors[name + ".pixel_values_strided"] = pv[:, :, ::REAL_STRIDE, ::REAL_STRIDE].float().contiguous()
        meta["real_geometry"]["images"][name] = {"file": f"media/{name}.bmp", "tokens": tokens,
                                                 "tiles": int(pv.shape[0]), "image_size": inputs["image_sizes"][0].tolist()}
        print(f"{name}: {tokens} tokens, {pv.shape[0]} tiles", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the checkpoint with vocab.json/merges.txt (make_slow_tok_dir.py)")
    ap.add_argument("--checkpoint", required=True, help="the folder make-tiny-model wrote (hashed)")
    ap.add_argument("--real-config", required=True, help="llava-onevision-qwen2-7b-ov-hf config files")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out_dir = args.out
    os.makedirs(os.path.join(out_dir, "media", "video"), exist_ok=True)
    torch.manual_seed(0)
    recorder = QueryRecorder.install(hf_qwen2, "apply_rotary_pos_emb")

    images = write_images(IMAGES, out_dir)
    frames = write_frames(VIDEO_FRAMES, *VIDEO_SIZE, 10, out_dir)
    video = np.stack([np.asarray(f) for f in frames])  # [F, H, W, 3] uint8

    processor = AutoProcessor.from_pretrained(args.model, use_fast=False)
    assert isinstance(processor, LlavaOnevisionProcessor), type(processor)
    meta = manifest("tests/parity/llava_onevision/make_goldens.py", args.out, args.checkpoint, "llava_onevision", SEED,
                    "slow Qwen2Tokenizer (use_fast=False: the Rust tokenizers package is absent) from vocab.json/"
                    "merges.txt extracted from the checkpoint's tokenizer.json", LAST_QUERIES, GREEDY_TOKENS)
    tensors = {}
    real_geometry(args.real_config, args.model, out_dir, tensors, meta)
    for dtype_name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model = load_model(LlavaOnevisionForConditionalGeneration, args.checkpoint, dtype)
        for name, messages in cases().items():
            text = processor.apply_chat_template(hf_messages(messages), tokenize=False, add_generation_prompt=True)
            imgs = [images[os.path.basename(c["file"])[:-4]] for m in messages for c in m["content"] if c["type"] == "image"]
            vids = [video for m in messages for c in m["content"] if c["type"] == "video"]
            inputs = processor(images=imgs or None, videos=vids or None, text=text, return_tensors="pt")
            if "pixel_values_videos" in inputs:
                inputs["pixel_values_videos"] = inputs["pixel_values_videos"].to(dtype)
            key = f"{name}.{dtype_name}."
            out, gen = capture(model, inputs, recorder, key, tensors, GREEDY_TOKENS, LAST_QUERIES)
            # bfloat16 logits kept in bfloat16 (exact, half the bytes).
            tensors[key + "last_logits"] = out.logits[0, -1].contiguous()
            T = inputs["input_ids"].shape[1]
            new = gen.sequences[0, T:]
            margins = top2_margins(gen)
            media = {k: inputs[k] for k in ("pixel_values", "image_sizes", "pixel_values_videos") if k in inputs}
            uncached = uncached_argmax(model, gen, T, **media)
            store_greedy(tensors, key, new, margins, uncached)
            if dtype_name == "float32":  # inputs do not depend on the model's dtype
                tensors[name + ".input_ids"] = inputs["input_ids"][0].long().contiguous()
                per_image = []
                if "pixel_values" in inputs:  # without do_pad's batch padding
                    for i, n in enumerate(transformers.models.llava_onevision.modeling_llava_onevision
                                          .image_size_to_num_patches(s, model.config.image_grid_pinpoints,
                                                                     model.config.vision_config.image_size)
                                          for s in inputs["image_sizes"].tolist()):
                        tensors[f"{name}.pixel_values.{i}"] = inputs["pixel_values"][i, :n].float().contiguous()
                        per_image.append(n)
                if "pixel_values_videos" in inputs:
                    tensors[name + ".pixel_values_videos"] = inputs["pixel_values_videos"][0].float().contiguous()
                meta["cases"][name] = {"messages": messages, "text": text, "tokens": int(T), "image_tiles": per_image,
                                       "greedy": {}}
            meta["cases"][name]["greedy"][dtype_name] = greedy_record(new, margins, uncached)
            print(f"{name} {dtype_name}: T={T} greedy={new.tolist()}", flush=True)
        del model
    write_goldens(out_dir, tensors, meta)


if __name__ == "__main__":
    main()
