#include "models/random_checkpoint.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "core/safetensors.h"

namespace kvb {

uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

at::Tensor seeded_normal(const std::vector<int64_t>& shape, uint64_t seed, uint64_t stream) {
  at::Tensor x = at::empty(shape, at::kFloat);
  float* p = x.data_ptr<float>();
  const uint64_t key = splitmix64(splitmix64(seed) ^ stream);
  at::parallel_for(0, x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const uint64_t c = key + 2 * static_cast<uint64_t>(i);
      const double u1 = (static_cast<double>(splitmix64(c) >> 11) + 0.5) * 0x1.0p-53;  // (0, 1)
      const double u2 = static_cast<double>(splitmix64(c + 1) >> 11) * 0x1.0p-53;
      p[i] = static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
    }
  });
  return x;
}

void write_sharded(const std::string& out_dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  const std::filesystem::path out(out_dir);
  int64_t total = 0;
  for (const auto& [n, t] : tensors) total += t.numel() * static_cast<int64_t>(t.element_size());
  std::vector<std::pair<std::string, at::Tensor>> shards[2];
  int64_t acc = 0;
  for (const auto& nt : tensors) {
    shards[acc < total / 2 ? 0 : 1].push_back(nt);
    acc += nt.second.numel() * static_cast<int64_t>(nt.second.element_size());
  }
  nlohmann::json map = nlohmann::json::object();
  for (int s = 0; s < 2; ++s) {
    const std::string file = fmt::format("model-{:05d}-of-00002.safetensors", s + 1);
    write_safetensors((out / file).string(), shards[s], {{"format", "pt"}});
    for (const auto& [n, t] : shards[s]) map[n] = file;
  }
  const std::string index = nlohmann::json{{"metadata", {{"total_size", total}}}, {"weight_map", map}}.dump(2);
  const auto path = out / "model.safetensors.index.json";
  std::ofstream f(path, std::ios::binary);
  KVB_CHECK(f && (f << index), "cannot write {}", path.string());
}

void write_random_weights(const std::string& out_dir, const std::vector<TensorSpec>& specs, uint64_t seed,
                          at::ScalarType dtype) {
  const std::filesystem::path out(out_dir);
  std::filesystem::create_directories(out);
  const auto tensors = random_tensors(specs, seed, dtype);
  std::error_code ec;
  std::filesystem::remove(out / "model.safetensors", ec);
  write_sharded(out_dir, tensors);
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  KVB_CHECK(f && (f << text), "cannot write {}", path.string());
}

nlohmann::json special_added_token(int64_t id, const std::string& content) {
  return {{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
          {"normalized", false}, {"special", true}};
}

nlohmann::json added_token_decoder_entry(const nlohmann::json& content, bool special) {
  return {{"content", content}, {"lstrip", false}, {"normalized", false}, {"rstrip", false}, {"single_word", false},
          {"special", special}};
}

nlohmann::json special_tokens_decoder(const nlohmann::json& added) {
  nlohmann::json decoder = nlohmann::json::object();
  for (const auto& a : added) decoder[std::to_string(a.at("id").get<int64_t>())] = added_token_decoder_entry(a.at("content"), true);
  return decoder;
}

nlohmann::json special_tokens_map_entry(const std::string& content) {
  return {{"content", content}, {"lstrip", false}, {"normalized", false}, {"rstrip", false}, {"single_word", false}};
}

std::string tokenizer_source(const std::string& given, const std::string& npm_package) {
  if (!given.empty()) return given;
  return std::string(KVB_SOURCE_DIR) + "/third_party/npm/node_modules/" + npm_package + "/models/tokenizer.json";
}

nlohmann::json read_source_tokenizer(const std::string& source) {
  KVB_CHECK(std::filesystem::exists(source), "tokenizer source {} is missing (run scripts/setup.sh to fetch the npm assets)",
            source);
  nlohmann::json tok = read_json_file(source);
  KVB_CHECK(tok.contains("added_tokens") && tok["added_tokens"].is_array(), "{}: field 'added_tokens' is missing",
            source);
  return tok;
}

}  // namespace kvb
