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

namespace kvb {

uint64_t splitmix64(uint64_t z);

// Standard normal float32 draws, counter-based (splitmix64 + Box-Muller): element i of stream
// `stream` depends only on (seed, stream, i), not on at::randn's stream (which has changed between
// releases) nor on the thread count.
at::Tensor seeded_normal(const std::vector<int64_t>& shape, uint64_t seed, uint64_t stream);

// Writes `tensors` (in their own dtypes) as model-00001-of-00002.safetensors and
// model-00002-of-00002.safetensors, cut at half the bytes, plus model.safetensors.index.json, so
// every load of a tiny checkpoint goes through the index as the published ones do.
void write_sharded(const std::string& out_dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors);

// Writes `text` to `path` byte for byte; errors name the file.
void write_text_file(const std::filesystem::path& path, const std::string& text);

// A special token's tokenizer.json "added_tokens" entry, as the published tokenizers write it.
nlohmann::json special_added_token(int64_t id, const std::string& content);

}  // namespace kvb
