#pragma once
// Helpers for benchmark loader tests: a scratch copy of a fixture folder (loaders may write
// caches next to the data) and a benchmark created through the registry.
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "core/registry.h"
#include "eval/benchmark.h"

namespace kvb::testing {

// The published fixture folder tests/fixtures/<name> (read-only; see scratch_copy).
inline std::string fixture_root(const std::string& name) { return std::string(KVB_TEST_DATA) + "/fixtures/" + name; }

inline std::filesystem::path scratch_copy(const std::string& fixture) {
  namespace fs = std::filesystem;
  std::mt19937_64 rng(std::random_device{}());
  fs::path dst = fs::temp_directory_path() / ("kvb_" + fixture + "_" + std::to_string(rng() % 1000000007));
  fs::remove_all(dst);
  fs::create_directories(dst);
  fs::copy(fs::path(KVB_TEST_DATA) / "fixtures" / fixture, dst, fs::copy_options::recursive);
  return dst;
}

inline std::unique_ptr<Benchmark> make_benchmark(const std::string& name, const nlohmann::json& cfg = nlohmann::json::object()) {
  return Registry<Benchmark>::instance().create(name, cfg);
}

inline const Sample* find_sample(const std::vector<Sample>& v, const std::string& id) {
  for (const auto& s : v)
    if (s.id == id) return &s;
  return nullptr;
}

// The text of the last text segment of the first user message.
inline std::string prompt_text(const Sample& s) {
  std::string out;
  for (const auto& seg : s.messages.at(0).content)
    if (seg.kind == Segment::Kind::Text) out = seg.text;
  return out;
}

}  // namespace kvb::testing

// The names benchmark tests use, for one `using namespace kvb::testing::bench_names;`.
namespace kvb::testing::bench_names {
using kvb::Sample;
using kvb::ScoredRecord;
using kvb::testing::find_sample;
using kvb::testing::prompt_text;
using nlohmann::json;
}  // namespace kvb::testing::bench_names
