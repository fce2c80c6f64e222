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
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from goldens_common import (QueryRecorder, capture, chat_cases, greedy_record, hf_content,  # noqa: E402
                            load_model, long_text, manifest, store_greedy, text, top2_margins, uncached_argmax,
                            user, write_goldens, write_images)

from transformers import CLIPImageProcessor, LlavaForConditionalGeneration, LlavaProcessor
from transformers.models.llama import modeling_llama as hf_llama
from transformers.utils.chat_template_utils import _compile_jinja_template

SEED = 11                # `kvbench make-tiny-model --family llava --seed 11`
GREEDY_TOKENS = 16
LAST_QUERIES = 5         # queries of the last positions, as kvbench's window queries
HERE = os.path.dirname(os.path.abspath(__file__))

# (width, height): odd sizes; one_image shrinks (antialiased bicubic), two_images enlarges one side
# and shrinks the other, with a portrait and a landscape crop.
IMAGES = {"img_173x131": (173, 131), "img_97x150": (97, 150), "img_211x83": (211, 83)}


def cases():
    """Chat messages per case."""
    return chat_cases("img_173x131", ("img_97x150", "img_211x83"),
                      long_text=[{"role": "system", "content": [text("You are a careful reader.")]},
                                 user(text(long_text(40)))])


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
    hf_msgs = [{"role": m["role"], "content": hf_content(m["content"])} for m in messages]
    return _compile_jinja_template(template).render(messages=hf_msgs, add_generation_prompt=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the folder `kvbench make-tiny-model --family llava --seed 11` wrote")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out_dir = args.out
    os.makedirs(os.path.join(out_dir, "media"), exist_ok=True)
    torch.manual_seed(0)
    recorder = QueryRecorder.install(hf_llama, "apply_rotary_pos_emb")

    images = write_images(IMAGES, out_dir)
    tokenizer = JsTokenizer(args.model)
    processor = make_processor(args.model, tokenizer)
    meta = manifest("tests/parity/llava/make_goldens.py", args.out, args.model, "llava", SEED,
                    "transformers.js (@lenml/tokenizers, tokenize.mjs) on the checkpoint's tokenizer.json, as "
                    "LlamaTokenizerFast applies it; no HF LLaMA tokenizer loads here", LAST_QUERIES, GREEDY_TOKENS)
    tensors = {}
    for dtype_name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model = load_model(LlavaForConditionalGeneration, args.model, dtype)
        for name, messages in cases().items():
            text = render(args.model, messages)
            imgs = [images[os.path.basename(c["file"])[:-4]] for m in messages for c in m["content"] if c["type"] == "image"]
            inputs = processor(images=imgs or None, text=text, return_tensors="pt")
            key = f"{name}.{dtype_name}."
            out, gen = capture(model, inputs, recorder, key, tensors, GREEDY_TOKENS, LAST_QUERIES)
            tensors[key + "last_logits"] = out.logits[0, -1].float().contiguous()
            T = inputs["input_ids"].shape[1]
            new = gen.sequences[0, T:]
            margins = top2_margins(gen)
            uncached = uncached_argmax(model, gen, T, pixel_values=inputs.get("pixel_values"))
            store_greedy(tensors, key, new, margins, uncached)
            if dtype_name == "float32":  # inputs do not depend on the model's dtype
                tensors[name + ".input_ids"] = inputs["input_ids"][0].long().contiguous()
                if inputs.get("pixel_values") is not None:
                    tensors[name + ".pixel_values"] = inputs["pixel_values"].float().contiguous()
                meta["cases"][name] = {"messages": messages, "text": text, "tokens": int(inputs["input_ids"].shape[1]),
                                       "greedy": {}}
            meta["cases"][name]["greedy"][dtype_name] = greedy_record(new, margins, uncached)
            print(f"{name} {dtype_name}: T={inputs['input_ids'].shape[1]} greedy={new.tolist()}", flush=True)
        del model
    meta["transformers_js"] = tokenizer.version
    write_goldens(out_dir, tensors, meta)


if __name__ == "__main__":
    main()
