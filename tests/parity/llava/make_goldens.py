#!/usr/bin/env python3
"""HF-transformers goldens for kvbench's tiny LLaVA-1.5 checkpoint (read by tests/parity/llava/test_llava_hf_parity.cpp).

Made on the CPU with the recipe in ../shared/tools/hf-cpu (transformers 4.50.0 on Debian's torch 1.13):

    build/kvbench make-tiny-model --family llava --seed 11 --out /tmp/tiny_llava
    $PY tests/parity/llava/make_goldens.py --model /tmp/tiny_llava --out tests/parity/llava/goldens

(or simply `bash tests/parity/llava/make_goldens.sh`). For every case and dtype (float32, bfloat16) it writes
the input ids, pixel values (CLIPImageProcessor), every layer's post-RoPE K/V (from HF's KV cache), the last
queries (post-RoPE, recorded from HF's own llama apply_rotary_pos_emb), the prefill's last-position logits
over the whole vocabulary, and the greedy continuation with HF's top-2 margin at each step and the argmax
of a cache-free HF forward over the same prefix (HF's two code paths can disagree where the margin is one
bfloat16 unit). Media are
24-bit BMP so that every kvbench build decodes the same pixels.

Token ids: no HF LLaMA tokenizer loads here (the fast one needs the Rust `tokenizers`, the slow one
sentencepiece and tokenizer.model), so the prompt text is made by HF itself (the checkpoint's
chat_template.json rendered with transformers' own Jinja setup, then LlavaProcessor.__call__ expanding
<image> to the image token count) and only the final string -> ids step runs in transformers.js
(tokenize.mjs beside this file), the oracle kvbench's tokenizer is already checked against.
Nothing here is compared with kvbench's output; the C++ test compares kvbench with these files.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

import numpy as np
import PIL
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from goldens_common import git_commit, sha256  # noqa: E402  (tests/parity)

import transformers
from transformers import CLIPImageProcessor, LlavaForConditionalGeneration, LlavaProcessor
from transformers.models.llama import modeling_llama as hf_llama
from transformers.utils.chat_template_utils import _compile_jinja_template

SEED = 11                # `kvbench make-tiny-model --family llava --seed 11`
GREEDY_TOKENS = 16
LAST_QUERIES = 5         # queries of the last positions, as kvbench's window queries
TF_TREE = ("github.com/shenlongbin/transformers_4_50_0_shopee_album commit 4ce414de0cf4be4eda137d4ff908151fe4b230f2 "
           "(a public copy of the 4.50.0 tree, not byte-compared with the official tag) + the hf-cpu HFCPU-PATCH edits")
HERE = os.path.dirname(os.path.abspath(__file__))

# (width, height): odd sizes; one_image shrinks (antialiased bicubic), two_images enlarges one side
# and shrinks the other, with a portrait and a landscape crop.
IMAGES = {"img_173x131": (173, 131), "img_97x150": (97, 150), "img_211x83": (211, 83)}


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
             for i in range(40)]
    return " ".join(parts) + " Which note mentions the copper violin?"


def cases():
    """Chat messages per case; images are {"type": "image", "file": ...} (kvbench reads the file)."""
    t = lambda s: {"type": "text", "text": s}
    img = lambda n: {"type": "image", "file": f"media/{n}.bmp"}
    user = lambda *c: {"role": "user", "content": list(c)}
    return {
        "text": [user(t("Write one sentence about the sea."))],
        "one_image": [user(img("img_173x131"), t("Describe this image."))],
        # The published template puts a message's images before its text, so images interleave
        # with text across turns.
        "two_images": [user(img("img_97x150"), t("Look at the first picture.")),
                       {"role": "assistant", "content": [t("It is a colourful pattern.")]},
                       user(img("img_211x83"), t("Which of the two is brighter?"))],
        "long_text": [{"role": "system", "content": [t("You are a careful reader.")]}, user(t(long_text()))],
    }


class QueryRecorder:
    """Wraps HF's llama apply_rotary_pos_emb to keep each layer's post-RoPE queries of one forward."""

    def __init__(self):
        self.active, self.queries = False, []
        self.orig = hf_llama.apply_rotary_pos_emb

    def __call__(self, q, k, cos, sin, *args, **kwargs):
        q_embed, k_embed = self.orig(q, k, cos, sin, *args, **kwargs)
        if self.active:
            self.queries.append(q_embed[0].detach().clone())  # [Hq, T, D]
        return q_embed, k_embed


class JsTokenizer:
    """What LlavaProcessor.__call__ needs of a tokenizer: calling it on the expanded prompts."""

    init_kwargs = {}

    def __init__(self, checkpoint):
        self.checkpoint, self.version = checkpoint, None

    def encode(self, texts):
        out = subprocess.run(["node", os.path.join(HERE, "tokenize.mjs")], check=True, capture_output=True,
                             input=json.dumps({"dir": self.checkpoint, "texts": texts}).encode())
        res = json.loads(out.stdout)
        self.version = res["version"]
        return res["ids"]

    def __call__(self, texts, **kwargs):
        ids = self.encode(texts)
        assert len({len(x) for x in ids}) == 1, "one prompt at a time (no padding)"
        return {"input_ids": torch.tensor(ids), "attention_mask": torch.ones(len(ids), len(ids[0]), dtype=torch.long)}


def make_processor(checkpoint, tokenizer):
    """LlavaProcessor as from_pretrained builds it from processor_config.json, with `tokenizer` in
    place of the unavailable HF LLaMA tokenizer (ProcessorMixin's type check would refuse it)."""
    pc = json.load(open(os.path.join(checkpoint, "processor_config.json")))
    proc = LlavaProcessor.__new__(LlavaProcessor)
    proc.image_processor = CLIPImageProcessor.from_pretrained(checkpoint)
    proc.tokenizer = tokenizer
    proc.patch_size = pc["patch_size"]
    proc.num_additional_image_tokens = pc["num_additional_image_tokens"]
    proc.vision_feature_select_strategy = pc["vision_feature_select_strategy"]
    proc.image_token = pc["image_token"]
    return proc


def render(checkpoint, messages):
    """tokenizer.apply_chat_template(tokenize=False, add_generation_prompt=True): the same compiled Jinja
    template (with its {% generation %} extension) and the special-token variables it passes."""
    template = json.load(open(os.path.join(checkpoint, "chat_template.json")))["chat_template"]
    special = json.load(open(os.path.join(checkpoint, "special_tokens_map.json")))
    kw = {k: v["content"] if isinstance(v, dict) else v for k, v in special.items()}
    hf_msgs = [{"role": m["role"], "content": [{"type": c["type"], "text": c["text"]} if c["type"] == "text"
                                               else {"type": c["type"]} for c in m["content"]]} for m in messages]
    return _compile_jinja_template(template).render(messages=hf_msgs, add_generation_prompt=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the folder `kvbench make-tiny-model --family llava --seed 11` wrote")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out_dir = args.out
    os.makedirs(os.path.join(out_dir, "media"), exist_ok=True)
    torch.manual_seed(0)
    recorder = QueryRecorder()
    hf_llama.apply_rotary_pos_emb = recorder

    images = {}
    for i, (name, (w, h)) in enumerate(IMAGES.items()):
        images[name] = synthetic_image(w, h, seed=i + 1)
        images[name].save(os.path.join(out_dir, "media", name + ".bmp"))
    tokenizer = JsTokenizer(args.model)
    processor = make_processor(args.model, tokenizer)
    files = sorted(f for f in os.listdir(args.model) if os.path.isfile(os.path.join(args.model, f)))
    meta = {
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "made_by": "tests/parity/llava/make_goldens.py at kvbench commit " + git_commit(args.out),
        "transformers": transformers.__version__, "transformers_tree": TF_TREE, "torch": torch.__version__,
        "python": platform.python_version(), "numpy": np.__version__, "pillow": PIL.__version__,
        "tokenizer": "transformers.js (@lenml/tokenizers, tokenize.mjs) on the checkpoint's tokenizer.json, as "
                     "LlamaTokenizerFast applies it; no HF LLaMA tokenizer loads here",
        "attn_implementation": "eager", "device": "cpu",
        "checkpoint": {"make_tiny_model": f"kvbench make-tiny-model --family llava --seed {SEED}", "seed": SEED,
                       "sha256": {f: sha256(os.path.join(args.model, f)) for f in files}},
        "last_queries": LAST_QUERIES, "greedy_tokens": GREEDY_TOKENS, "cases": {},
    }
    tensors = {}
    for dtype_name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model, info = LlavaForConditionalGeneration.from_pretrained(
            args.model, torch_dtype=dtype, attn_implementation="eager", output_loading_info=True)
        bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
        if bad:
            sys.exit(f"checkpoint does not load cleanly: {bad}")
        model.eval()
        for name, messages in cases().items():
            text = render(args.model, messages)
            imgs = [images[os.path.basename(c["file"])[:-4]] for m in messages for c in m["content"] if c["type"] == "image"]
            inputs = processor(images=imgs or None, text=text, return_tensors="pt")
            key = f"{name}.{dtype_name}."
            with torch.no_grad():
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
            tensors[key + "last_logits"] = out.logits[0, -1].float().contiguous()
            T = inputs["input_ids"].shape[1]
            new = gen.sequences[0, T:]
            margins = []
            for step in gen.logits:
                top2 = step[0].float().topk(2).values
                margins.append(float(top2[0] - top2[1]))
            # HF's own second opinion: the argmax of a cache-free forward over the same prefix. Where
            # it differs from generate()'s (a top-2 margin at bfloat16 resolution), HF's answer depends
            # on its code path, and either is a faithful result.
            uncached = []
            with torch.no_grad():
                for step in range(len(new)):
                    prefix = gen.sequences[:, :T + step]
                    fwd = model(input_ids=prefix, attention_mask=torch.ones_like(prefix),
                                pixel_values=inputs.get("pixel_values"), use_cache=False, return_dict=True)
                    uncached.append(int(fwd.logits[0, -1].argmax()))
            tensors[key + "greedy_tokens"] = new.long().contiguous()
            tensors[key + "greedy_margins"] = torch.tensor(margins, dtype=torch.float32)
            tensors[key + "greedy_uncached_argmax"] = torch.tensor(uncached, dtype=torch.long)
            if dtype_name == "float32":  # inputs do not depend on the model's dtype
                tensors[name + ".input_ids"] = inputs["input_ids"][0].long().contiguous()
                if inputs.get("pixel_values") is not None:
                    tensors[name + ".pixel_values"] = inputs["pixel_values"].float().contiguous()
                meta["cases"][name] = {"messages": messages, "text": text, "tokens": int(inputs["input_ids"].shape[1]),
                                       "greedy": {}}
            meta["cases"][name]["greedy"][dtype_name] = {
                "tokens": new.tolist(), "min_margin": min(margins),
                "uncached_disagrees_at": [i for i, (a, b) in enumerate(zip(new.tolist(), uncached)) if a != b]}
            print(f"{name} {dtype_name}: T={inputs['input_ids'].shape[1]} greedy={new.tolist()}", flush=True)
        del model
    meta["transformers_js"] = tokenizer.version

    from safetensors.torch import save_file
    save_file(tensors, os.path.join(out_dir, "goldens.safetensors"), metadata={"transformers": transformers.__version__})
    with open(os.path.join(out_dir, "goldens.json"), "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    print(f"wrote {len(tensors)} tensors to {out_dir} (transformers {transformers.__version__}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
