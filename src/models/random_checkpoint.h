#pragma once
// Shared by the families' make-tiny-model writers: random weights that are the same numbers on
// every platform and libtorch version (the HF goldens hash the checkpoint they were made from),
// and the published sharded layout.
#include <ATen/ATen.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "models/tensor_spec.h"

namespace kvb {

uint64_t splitmix64(uint64_t z);

// Standard normal float32 draws, counter-based (splitmix64 + Box-Muller): element i of stream
// `stream` depends only on (seed, stream, i), not on at::randn's stream (which has changed between
// releases) nor on the thread count.
at::Tensor seeded_normal(const std::vector<int64_t>& shape, uint64_t seed, uint64_t stream);

// Creates `out_dir` and writes `specs`' seeded random tensors in `dtype` there with write_sharded
// (removing a model.safetensors left from another layout, which a loader would prefer).
void write_random_weights(const std::string& out_dir, const std::vector<TensorSpec>& specs, uint64_t seed,
                          at::ScalarType dtype);

// Writes `tensors` (in their own dtypes) as model-00001-of-00002.safetensors and
// model-00002-of-00002.safetensors, cut at half the bytes, plus model.safetensors.index.json, so
// every load of a tiny checkpoint goes through the index as the published ones do.
void write_sharded(const std::string& out_dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors);

// Writes `text` to `path` byte for byte; errors name the file.
void write_text_file(const std::filesystem::path& path, const std::string& text);

// A special token's tokenizer.json "added_tokens" entry, as the published tokenizers write it.
nlohmann::json special_added_token(int64_t id, const std::string& content);

// tokenizer_config.json's "added_tokens_decoder" entry for a token.
nlohmann::json added_token_decoder_entry(const nlohmann::json& content, bool special);

// "added_tokens_decoder" for `added` (tokenizer.json "added_tokens" entries), each one special.
nlohmann::json special_tokens_decoder(const nlohmann::json& added);

// A special_tokens_map.json entry, as the published files write it.
nlohmann::json special_tokens_map_entry(const std::string& content);

// The tokenizer.json a tiny checkpoint starts from: `given`, or when empty the one the npm
// package `npm_package` (fetched by scripts/setup.sh) ships.
std::string tokenizer_source(const std::string& given, const std::string& npm_package);

// Reads that file; it must exist and list its added_tokens.
nlohmann::json read_source_tokenizer(const std::string& source);

}  // namespace kvb
