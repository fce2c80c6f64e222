"""Shared by the goldens makers (tests/parity/<family>/make_goldens.py): file hashes and the
kvbench commit that made the goldens."""
import hashlib
import os
import subprocess


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_commit(goldens_dir):
    """HEAD, with -dirty when anything in the checkout but the goldens being rewritten differs."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        top = subprocess.check_output(["git", "-C", here, "rev-parse", "--show-toplevel"], text=True).strip()
        rev = subprocess.check_output(["git", "-C", here, "rev-parse", "HEAD"], text=True).strip()
        rel = os.path.relpath(os.path.abspath(goldens_dir), top)
        dirty = subprocess.check_output(["git", "-C", top, "status", "--porcelain", "--", ".", f":(exclude){rel}"],
                                        text=True).strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# Case building, HF capture and the manifest, alike in the families' makers. Imports of numpy,
# PIL, torch and transformers stay inside the functions so that this module loads without them.

TF_TREE = ("github.com/shenlongbin/transformers_4_50_0_shopee_album commit 4ce414de0cf4be4eda137d4ff908151fe4b230f2 "
           "(a public copy of the 4.50.0 tree, not byte-compared with the official tag) + the hf-cpu HFCPU-PATCH edits")


def synthetic_image(width, height, seed):
    """Smooth gradients plus seeded noise: exercises the bicubic resize and every channel."""
    import numpy as np
    from PIL import Image
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / max(width, 1) * 6.0 + seed)
    g = 127.5 + 127.5 * np.cos(y / max(height, 1) * 5.0 - seed)
    b = (x * 3 + y * 7 + seed * 13) % 256
    img = np.stack([r, g, b], -1) + rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def write_images(sizes, out_dir):
    """{name: (width, height)} -> {name: image}, image i seeded i + 1 and saved as media/<name>.bmp
    (24-bit BMP, so that every kvbench build decodes the same pixels)."""
    images = {}
    for i, (name, (w, h)) in enumerate(sizes.items()):
        images[name] = synthetic_image(w, h, seed=i + 1)
        images[name].save(os.path.join(out_dir, "media", name + ".bmp"))
    return images


def write_frames(count, width, height, first_seed, out_dir):
    """`count` video frames seeded first_seed, first_seed + 1, ..., saved as media/video/frame_NNN.bmp."""
    frames = []
    for f in range(count):
        frames.append(synthetic_image(width, height, seed=first_seed + f))
        frames[-1].save(os.path.join(out_dir, "media", "video", f"frame_{f:03d}.bmp"))
    return frames


def long_text(notes):
    colours = ["red", "green", "blue", "amber", "violet", "silver", "copper"]
    things = ["lantern", "kettle", "harbour", "meadow", "violin", "glacier", "orchard", "compass"]
    parts = [f"Note {i}: the {colours[i % 7]} {things[(i * 3) % 8]} stood {i + 2} steps from the {things[(i * 5 + 1) % 8]}."
             for i in range(notes)]
    return " ".join(parts) + " Which note mentions the copper violin?"


def text(s):
    return {"type": "text", "text": s}


def image(name):
    """An image case part; kvbench reads the file."""
    return {"type": "image", "file": f"media/{name}.bmp"}


def user(*content):
    return {"role": "user", "content": list(content)}


def chat_cases(one_image, two_images, **more):
    """The chat cases of the LLaVA families: a text prompt, one image, two images over two turns (the
    published templates put a message's images before its text, so images interleave with text
    across turns), then `more`, the family's own."""
    first, second = two_images
    return {
        "text": [user(text("Write one sentence about the sea."))],
        "one_image": [user(image(one_image), text("Describe this image."))],
        "two_images": [user(image(first), text("Look at the first picture.")),
                       {"role": "assistant", "content": [text("It is a colourful pattern.")]},
                       user(image(second), text("Which of the two is brighter?"))],
        **more,
    }


def hf_content(content):
    """A case's content as HF's chat templates take it: text kept, media reduced to their type."""
    return [{"type": c["type"], "text": c["text"]} if c["type"] == "text" else {"type": c["type"]} for c in content]


class QueryRecorder:
    """Wraps an HF apply_*rotary_pos_emb (`orig`) to keep each layer's post-RoPE queries of one forward."""

    def __init__(self, orig):
        self.active, self.queries = False, []
        self.orig = orig

    @classmethod
    def install(cls, module, name):
        """Replaces module.<name> with a recorder wrapping it."""
        recorder = cls(getattr(module, name))
        setattr(module, name, recorder)
        return recorder

    def __call__(self, *args, **kwargs):
        q_embed, k_embed = self.orig(*args, **kwargs)
        if self.active:
            self.queries.append(q_embed[0].detach().clone())  # [Hq, T, D]
        return q_embed, k_embed


def manifest(maker, out_dir, checkpoint, family, seed, tokenizer, last_queries, greedy_tokens):
    """goldens.json's header: how and from what the goldens were made (the checkpoint's files hashed)."""
    import platform
    import sys

    import numpy as np
    import PIL
    import torch
    import transformers
    files = sorted(f for f in os.listdir(checkpoint) if os.path.isfile(os.path.join(checkpoint, f)))
    return {
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "made_by": f"{maker} at kvbench commit " + git_commit(out_dir),
        "transformers": transformers.__version__, "transformers_tree": TF_TREE, "torch": torch.__version__,
        "python": platform.python_version(), "numpy": np.__version__, "pillow": PIL.__version__,
        "tokenizer": tokenizer,
        "attn_implementation": "eager", "device": "cpu",
        "checkpoint": {"make_tiny_model": f"kvbench make-tiny-model --family {family} --seed {seed}", "seed": seed,
                       "sha256": {f: sha256(os.path.join(checkpoint, f)) for f in files}},
        "last_queries": last_queries, "greedy_tokens": greedy_tokens, "cases": {},
    }


def load_model(model_class, path, dtype):
    """from_pretrained in `dtype` with eager attention, refusing a checkpoint that does not load cleanly."""
    import sys
    model, info = model_class.from_pretrained(path, torch_dtype=dtype, attn_implementation="eager",
                                              output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if bad:
        sys.exit(f"checkpoint does not load cleanly: {bad}")
    model.eval()
    return model


def capture(model, inputs, recorder, key, tensors, greedy_tokens, last_queries):
    """One prefill with the queries recorded and HF's greedy generate(); stores every layer's
    post-RoPE keys, values and last queries under `key`. Returns (prefill output, generate output)."""
    import torch
    with torch.no_grad():
        recorder.active, recorder.queries = True, []
        out = model(**inputs, use_cache=True, return_dict=True)
        recorder.active = False
        gen = model.generate(**inputs, max_new_tokens=greedy_tokens, do_sample=False, num_beams=1,
                             output_logits=True, return_dict_in_generate=True)
    cache = out.past_key_values
    layers = len(cache.key_cache)
    assert len(recorder.queries) == layers, (len(recorder.queries), layers)
    for l in range(layers):
        tensors[key + f"keys.{l}"] = cache.key_cache[l][0].contiguous()      # [Hkv, T, D] post-RoPE
        tensors[key + f"values.{l}"] = cache.value_cache[l][0].contiguous()
        tensors[key + f"queries.{l}"] = recorder.queries[l][:, -last_queries:].contiguous()
    return out, gen


def top2_margins(gen):
    """HF's top-2 logit margin at each greedy step."""
    margins = []
    for step in gen.logits:
        top2 = step[0].float().topk(2).values
        margins.append(float(top2[0] - top2[1]))
    return margins


def uncached_argmax(model, gen, prompt_len, **media):
    """HF's own second opinion: the argmax of a cache-free forward over each greedy prefix. Where it
    differs from generate()'s (a top-2 margin at bfloat16 resolution), HF's answer depends on its
    code path, and either is a faithful result."""
    import torch
    out = []
    with torch.no_grad():
        for step in range(gen.sequences.shape[1] - prompt_len):
            prefix = gen.sequences[:, :prompt_len + step]
            fwd = model(input_ids=prefix, attention_mask=torch.ones_like(prefix), use_cache=False, return_dict=True,
                        **media)
            out.append(int(fwd.logits[0, -1].argmax()))
    return out


def store_greedy(tensors, key, new, margins, uncached=None):
    """The greedy continuation's tensors under `key`: tokens, margins and, when taken, the cache-free argmax."""
    import torch
    tensors[key + "greedy_tokens"] = new.long().contiguous()
    tensors[key + "greedy_margins"] = torch.tensor(margins, dtype=torch.float32)
    if uncached is not None:
        tensors[key + "greedy_uncached_argmax"] = torch.tensor(uncached, dtype=torch.long)


def greedy_record(new, margins, uncached):
    """goldens.json's per-dtype greedy entry where the cache-free argmax was taken."""
    return {"tokens": new.tolist(), "min_margin": min(margins),
            "uncached_disagrees_at": [i for i, (a, b) in enumerate(zip(new.tolist(), uncached)) if a != b]}


def write_goldens(out_dir, tensors, meta):
    """goldens.safetensors and goldens.json."""
    import json

    import torch
    import transformers
    from safetensors.torch import save_file
    save_file(tensors, os.path.join(out_dir, "goldens.safetensors"), metadata={"transformers": transformers.__version__})
    with open(os.path.join(out_dir, "goldens.json"), "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    print(f"wrote {len(tensors)} tensors to {out_dir} (transformers {transformers.__version__}, torch {torch.__version__})")
