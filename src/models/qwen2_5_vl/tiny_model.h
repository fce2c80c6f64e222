#pragma once
// A random Qwen2.5-VL checkpoint with the real file set (config.json with every key of the
// published 7B config, tensor names, tokenizer files, preprocessor config) and tiny sizes, for
// tests, demos and HF-transformers parity goldens.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/qwen2_5_vl/config.h"

namespace kvb::qwen {

// The tiny geometry: 2 LLM layers, hidden 64, 4 q / 2 kv heads (head dim 16, mrope_section
// [2, 3, 3]: the 7B's [16, 24, 24] scaled to the head dim), untied lm_head, vocab 151936;
// vision depth 4 (block 1 full attention), hidden 32, 2 heads.
Config tiny_config();

// The organism `kvbench train-organism` trains: 4 LLM layers, hidden 128, 4 q / 2 kv heads (head
// dim 32, mrope_section [4, 6, 6]), vision depth 2 (hidden 64), and a byte-level tokenizer with
// Qwen's added tokens from id 256 (vocab 288; organism_vocab with learnt merges): small enough
// for a CPU to train.
Config organism_config();

// The organism's tokenizer.json: bytes 0-255, Qwen's added tokens from id 256, Qwen's
// pre-tokenizer, and up to `merges` BPE merges learnt on `corpus` (ids from 278 on).
nlohmann::json byte_tokenizer_json(const std::vector<std::string>& corpus, int64_t merges);
// Its embedding rows: one past the largest id, padded to a multiple of 32 (288 without merges).
int64_t organism_vocab(const nlohmann::json& byte_tokenizer);

// "tiny", "organism", or the published "3b"/"7b" geometry; layers / vision_depth > 0 cut the depth
// (the full-attention blocks are then re-spread: every 8th block from block 7, or the last).
Config geometry_config(const std::string& name, int64_t layers, int64_t vision_depth);

// Writes the checkpoint into `out_dir` (created) as published: bfloat16 safetensors in two shards
// with model.safetensors.index.json. `tokenizer_json`: the Qwen2 tokenizer.json to adapt (empty:
// the copy under third_party/npm). Weights: N(0, 1/fan_in) linears, biases N(0, 0.1^2), norm
// weights 1 + N(0, 0.1^2), embeddings and lm_head N(0, 0.02^2) (small next to the layer outputs,
// so greedy decoding is not the identity map), drawn from `seed` by a counter-based generator,
// so the files are byte-identical on every platform (the HF goldens check their hash).
void write_tiny_model(const std::string& out_dir, uint64_t seed, const std::string& tokenizer_json = "");

// Writes a checkpoint of an arbitrary geometry (benchmarks: 7B geometry cut to 2 layers).
// A vocabulary below Qwen's gets `byte_tokenizer` (null: byte_tokenizer_json without merges).
void write_random_model(const std::string& out_dir, const Config& c, uint64_t seed, const std::string& tokenizer_json = "",
                        const nlohmann::json& byte_tokenizer = nullptr);

}  // namespace kvb::qwen
