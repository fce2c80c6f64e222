// kvbench's LLaVA-1.5 against HF transformers 4.50.0 (goldens made by make_goldens.py on the CPU):
// token ids, pixel values, every layer's post-RoPE K/V, the last queries, the prefill logits and the
// greedy continuation, for text, one image, two images interleaved with text over turns and a long
// text (crossing prefill chunks), in float32 and bfloat16.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <tuple>

#include "compress/method.h"
#include "core/config.h"
#include "core/registry.h"
#include "core/safetensors.h"
#include "engine/engine.h"
#include "models/model.h"
#include "parity/family_goldens.h"
#include "parity/hf_greedy.h"
#include "vision/clip_processor.h"
#include "vision/image.h"

namespace kvb {
namespace {

namespace fs = std::filesystem;

// The long text (> 600 tokens) crosses prefill chunk boundaries.
constexpr int64_t kPrefillChunk = 257;

test::FamilyGoldens& g() {
  static test::FamilyGoldens goldens("llava", "llava", kPrefillChunk);
  return goldens;
}
const std::string& goldens_dir() { return g().dir(); }
const nlohmann::json& manifest() { return g().manifest(); }
at::Tensor golden(const std::string& name) { return g().tensor(name); }
const std::string& tiny_dir() { return g().tiny_dir(); }
Model& model(const std::string& dtype) { return g().model(dtype); }

std::vector<Message> messages_of(const nlohmann::json& messages) {
  std::vector<Message> out;
  for (const auto& jm : messages) {
    Message m{jm.at("role").get<std::string>(), {}};
    for (const auto& c : jm.at("content")) {
      if (c.at("type") == "text") m.content.push_back(text_segment(c.at("text").get<std::string>()));
      else m.content.push_back(image_segment(MediaRef{goldens_dir() + "/" + c.at("file").get<std::string>(), {}, {}, 0, 0}));
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> image_files(const nlohmann::json& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages)
    for (const auto& c : m.at("content"))
      if (c.at("type") == "image") out.push_back(goldens_dir() + "/" + c.at("file").get<std::string>());
  return out;
}

struct Case {
  std::string name, dtype;
};

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const char* name : {"text", "one_image", "two_images", "long_text"})
    for (const char* dtype : {"float32", "bfloat16"}) out.push_back({name, dtype});
  return out;
}

class LlavaHfParity : public ::testing::TestWithParam<Case> {};

TEST_P(LlavaHfParity, IdsAndPixels) {
  const Case& c = GetParam();
  const auto& meta = manifest().at("cases").at(c.name);
  Needs none;
  const PrefillCapture cap = model(c.dtype).capture_prefill(messages_of(meta.at("messages")), none);
  test::expect_equal_ids(cap.input_ids, golden(c.name + ".input_ids"), c.name + " input ids");

  // The processor alone, on the same files the family reads.
  const auto proc = ClipProcessorConfig::from_json(read_json_file(tiny_dir() + "/preprocessor_config.json"),
                                                   "preprocessor_config.json");
  std::vector<at::Tensor> pixels;
  for (const auto& f : image_files(meta.at("messages"))) pixels.push_back(clip_preprocess(decode_image_file(f), proc));
  if (pixels.empty()) return;
  test::expect_close(at::stack(pixels), golden(c.name + ".pixel_values"), 1e-5, c.name + " pixel values",
                     {"image", "channel", "y", "x"});
}

TEST_P(LlavaHfParity, KeysValuesQueriesLogits) {
  const Case& c = GetParam();
  const auto& meta = manifest().at("cases").at(c.name);
  const std::string key = c.name + "." + c.dtype + ".";
  Needs needs;
  needs.window_queries = manifest().at("last_queries").get<int64_t>();
  const PrefillCapture cap = model(c.dtype).capture_prefill(messages_of(meta.at("messages")), needs);
  ASSERT_EQ(cap.input_ids.size(0), meta.at("tokens").get<int64_t>());
  for (const auto& lk : cap.layers) {
    const std::string l = std::to_string(lk.layer);
    for (const auto& [what, got] : {std::pair{"keys", lk.keys}, std::pair{"values", lk.values},
                                    std::pair{"queries", lk.window_queries}}) {
      const at::Tensor want = golden(key + what + "." + l);
      test::expect_close(got, want, test::parity_tolerance(c.dtype, want, 4.0), key + what + " layer " + l,
                         {"head", "position", "dim"});
    }
  }
  const at::Tensor want = golden(key + "last_logits");
  test::expect_close(cap.last_logits, want, test::parity_tolerance(c.dtype, want, 4.0), key + "last_logits", {"vocab id"});
}

// See parity/hf_greedy.h for the rule.
TEST_P(LlavaHfParity, GreedyContinuation) {
  const Case& c = GetParam();
  const auto& meta = manifest().at("cases").at(c.name);
  const std::string key = c.name + "." + c.dtype + ".";
  auto method = Registry<CompressionMethod>::instance().create("full", nlohmann::json::object());
  GenerationOptions opt;
  opt.max_new_tokens = manifest().at("greedy_tokens").get<int64_t>();
  GenerationResult r = model(c.dtype).generate(messages_of(meta.at("messages")), opt, *method);
  const bool media = !image_files(meta.at("messages")).empty();
  test::expect_hf_greedy(r.ids, r.stop_reason == "eos", golden(key + "greedy_tokens"), golden(key + "greedy_margins"),
                         golden(key + "greedy_uncached_argmax"), golden(key + "last_logits"),
                         c.dtype == "bfloat16" && media, key);
}

INSTANTIATE_TEST_SUITE_P(Cases, LlavaHfParity, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name + "_" + i.param.dtype; });

}  // namespace
}  // namespace kvb
