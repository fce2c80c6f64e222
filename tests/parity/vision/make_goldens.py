#!/usr/bin/python3
"""Goldens for the vision preprocessing tests, made by Pillow (the reference resize) and
numpy following transformers' Qwen2VLImageProcessor steps. Run with Debian's Python:

    /usr/bin/python3 tests/parity/vision/make_goldens.py > tests/parity/vision/goldens.json

(apt-get install -y python3-pil python3-numpy). Only small summaries of each array are
stored: an exact weighted checksum, per-row and per-column sums and a few slices.
"""
import base64
import io
import json
import math
import sys

import numpy as np
import PIL
from PIL import Image, ImageOps

# --- synthetic images (the C++ test builds the same pixels with the same integer formula) ---


def synth(h, w, c_count):
    y, x, c = np.meshgrid(np.arange(h, dtype=np.int64), np.arange(w, dtype=np.int64),
                          np.arange(c_count, dtype=np.int64), indexing="ij")
    noise = ((x * 73856093) ^ (y * 19349663) ^ (c * 83492791)) >> 9
    v = 7 * x + 13 * y + 71 * c + 5 * ((x * y) % 31) + noise % 64
    return (v % 256).astype(np.uint8)


def alpha(h, w):
    y, x = np.meshgrid(np.arange(h, dtype=np.int64), np.arange(w, dtype=np.int64), indexing="ij")
    return ((x * 11 + y * 29) % 256).astype(np.uint8)


def make_image(kind, h, w):
    if kind == "rgb":
        return Image.fromarray(synth(h, w, 3), "RGB")
    if kind == "grey":
        return Image.fromarray(synth(h, w, 1)[:, :, 0], "L")
    rgba = np.concatenate([synth(h, w, 3), alpha(h, w)[:, :, None]], axis=2)
    return Image.fromarray(rgba, "RGBA")


def to_rgb(im):  # qwen-vl-utils' to_rgb
    if im.mode == "RGBA":
        white = Image.new("RGB", im.size, (255, 255, 255))
        white.paste(im, mask=im.split()[3])
        return white
    return im.convert("RGB")


# --- summaries ---


def weights(n):
    i = np.arange(n, dtype=np.int64)
    return (i * 2654435761) % 1000003


def summarize_u8(a):
    a = np.ascontiguousarray(a)
    flat = a.reshape(-1).astype(np.int64)
    return {
        "shape": list(a.shape),
        "checksum": int((flat * weights(flat.size)).sum()),
        "row_sums": a.astype(np.int64).sum(axis=(1, 2)).tolist(),
        "col_sums": a.astype(np.int64).sum(axis=(0, 2)).tolist(),
    }


def g9(values):  # 9 significant digits hold a float32 exactly and keep the file small
    return [float(f"{v:.9g}") for v in values]


def summarize_f32(a):
    a64 = a.astype(np.float64)
    flat = a64.reshape(-1)
    return {
        "shape": list(a.shape),
        "sum": float(flat.sum()),
        "abs_sum": float(np.abs(flat).sum()),
        "checksum": float((flat * (weights(flat.size) / 1000003.0)).sum()),
        "row_sums": g9(a64.sum(axis=1)),
        "first_row_head": g9(a64[0, :64]),
        "last_row_tail": g9(a64[-1, -64:]),
    }


# --- transformers' Qwen2VLImageProcessor, step by step ---

MEAN = [0.48145466, 0.4578275, 0.40821073]  # OPENAI_CLIP_MEAN
STD = [0.26862954, 0.26130258, 0.27577711]  # OPENAI_CLIP_STD


def smart_resize(height, width, factor, min_pixels, max_pixels):  # transformers (2025)
    if max(height, width) / min(height, width) > 200:
        raise ValueError("aspect ratio")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def processor(im, min_pixels, max_pixels, patch=14, tp=2, merge=2):
    h, w = im.height, im.width
    rh, rw = smart_resize(h, w, patch * merge, min_pixels, max_pixels)
    # transformers' resize(): PIL resize with resample=BICUBIC, reducing_gap=None
    arr = np.array(im.resize((rw, rh), resample=Image.BICUBIC, reducing_gap=None))
    x = (arr.astype(np.float64) * (1 / 255)).astype(np.float32)          # rescale
    x = (x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)  # normalize
    x = x.transpose(2, 0, 1)                                             # channels first
    patches = np.array([x])
    if patches.shape[0] == 1:
        patches = np.tile(patches, (tp, 1, 1, 1))
    c = patches.shape[1]
    gt, gh, gw = patches.shape[0] // tp, rh // patch, rw // patch
    flat = patches.reshape(gt, tp, c, gh // merge, merge, patch, gw // merge, merge, patch)
    flat = flat.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gt * gh * gw, c * tp * patch * patch)
    return flat, [gt, gh, gw], [rh, rw]


CASES = [  # name, kind, height, width, extra resize targets (h, w), processor configs
    ("a97x213", "rgb", 97, 213, [(33, 44), (200, 230), (97, 50)], ["default", "large_min"]),
    ("b480x640", "rgb", 480, 640, [(61, 73), (480, 1001)], ["default", "small_max"]),
    ("c30x1000", "rgb", 30, 1000, [(29, 97), (60, 1000)], ["default", "small_max"]),
    ("grey61x77", "grey", 61, 77, [(19, 130)], ["default"]),
    ("rgba45x123", "rgba", 45, 123, [(90, 40)], ["default"]),
]
PROCESSOR_CONFIGS = [  # name, min_pixels, max_pixels
    ("default", 56 * 56, 28 * 28 * 1280),
    ("small_max", 56 * 56, 28 * 28 * 16),
    ("large_min", 28 * 28 * 300, 28 * 28 * 1280),
]


def main():
    out = {
        "generator": "tests/parity/vision/make_goldens.py",
        "command": "/usr/bin/python3 tests/parity/vision/make_goldens.py > tests/parity/vision/goldens.json",
        "python": sys.version.split()[0],
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "images": [],
    }
    for name, kind, h, w, targets, configs in CASES:
        im = make_image(kind, h, w)
        rgb = to_rgb(im)
        entry = {"name": name, "kind": kind, "height": h, "width": w,
                 "to_rgb": summarize_u8(np.array(rgb)), "resize": [], "processor": []}
        for rh, rw in targets:
            r = np.array(rgb.resize((rw, rh), resample=Image.BICUBIC, reducing_gap=None))
            entry["resize"].append({"height": rh, "width": rw, **summarize_u8(r)})
        for cname, mn, mx in PROCESSOR_CONFIGS:
            if cname not in configs:
                continue
            flat, grid, size = processor(rgb, mn, mx)
            entry["processor"].append({"config": cname, "min_pixels": mn, "max_pixels": mx,
                                       "grid_thw": grid, "resized": size, **summarize_f32(flat)})
        out["images"].append(entry)

    # EXIF orientation: PIL.ImageOps.exif_transpose on a tiny image for every tag value.
    base = (np.arange(3 * 5 * 3).reshape(3, 5, 3) * 5).astype(np.uint8)
    out["exif_transpose"] = {"input": base.tolist(), "outputs": {}}
    for o in range(1, 9):
        buf = io.BytesIO()
        exif = Image.Exif()
        exif[0x0112] = o
        Image.fromarray(base, "RGB").save(buf, "PNG", exif=exif.tobytes())
        t = ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue())))
        out["exif_transpose"]["outputs"][str(o)] = np.array(t).tolist()

    # Encoded files decoded by Pillow (what the C++ decoders must reproduce).
    files = []
    jpg = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(synth(16, 24, 3), "RGB").save(jpg, "JPEG", quality=95, exif=exif.tobytes())
    files.append(("jpeg_exif6", jpg.getvalue(), ImageOps.exif_transpose(Image.open(io.BytesIO(jpg.getvalue())))))
    for fname, kind in (("png_grey", "grey"), ("png_rgba", "rgba"), ("png_rgb", "rgb")):
        b = io.BytesIO()
        make_image(kind, 7, 9).save(b, "PNG")
        files.append((fname, b.getvalue(), Image.open(io.BytesIO(b.getvalue()))))
    out["files"] = [{"name": n, "base64": base64.b64encode(data).decode(),
                     "rgb": np.array(to_rgb(im)).tolist()} for n, data, im in files]
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
