// kvbench's LLaVA-1.5 against HF transformers 4.50.0 (goldens made by make_goldens.py on the CPU):
// token ids, pixel values, every layer's post-RoPE K/V, the last queries, the prefill logits and the
// greedy continuation, for text, one image, two images interleaved with text over turns and a long
// text (crossing prefill chunks), in float32 and bfloat16.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "engine/engine.h"
#include "parity/family_goldens.h"
#include "vision/clip_processor.h"
#include "vision/image.h"

namespace kvb {
namespace {

// The long text (> 600 tokens) crosses prefill chunk boundaries.
constexpr int64_t kPrefillChunk = 257;

test::FamilyGoldens& g() {
  static test::FamilyGoldens goldens("llava", "llava", kPrefillChunk);
  return goldens;
}

std::vector<std::string> image_files(const nlohmann::json& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages)
    for (const auto& c : m.at("content"))
      if (c.at("type") == "image") out.push_back(g().media(c.at("file").get<std::string>()).path);
  return out;
}

class LlavaHfParity : public ::testing::TestWithParam<test::ParityCase> {};

TEST_P(LlavaHfParity, IdsAndPixels) {
  const auto& c = GetParam();
  const auto& meta = g().case_meta(c.name);
  Needs none;
  const PrefillCapture cap = g().model(c.dtype).capture_prefill(g().chat_messages(meta.at("messages")), none);
  test::expect_equal_ids(cap.input_ids, g().tensor(c.name + ".input_ids"), c.name + " input ids");

  // The processor alone, on the same files the family reads.
  const auto proc = ClipProcessorConfig::from_json(read_json_file(g().tiny_dir() + "/preprocessor_config.json"),
                                                   "preprocessor_config.json");
  std::vector<at::Tensor> pixels;
  for (const auto& f : image_files(meta.at("messages"))) pixels.push_back(clip_preprocess(decode_image_file(f), proc));
  if (pixels.empty()) return;
  test::expect_close(at::stack(pixels), g().tensor(c.name + ".pixel_values"), 1e-5, c.name + " pixel values",
                     {"image", "channel", "y", "x"});
}

TEST_P(LlavaHfParity, KeysValuesQueriesLogits) {
  const auto& c = GetParam();
  g().expect_prefill(c, g().chat_messages(g().case_meta(c.name).at("messages")));
}

// See parity/hf_greedy.h for the rule.
TEST_P(LlavaHfParity, GreedyContinuation) {
  const auto& c = GetParam();
  const auto& messages = g().case_meta(c.name).at("messages");
  const bool media = !image_files(messages).empty();
  g().expect_hf_greedy_continuation(c, g().chat_messages(messages), c.dtype == "bfloat16" && media);
}

INSTANTIATE_TEST_SUITE_P(Cases, LlavaHfParity,
                         ::testing::ValuesIn(test::parity_cases({"text", "one_image", "two_images", "long_text"})),
                         test::parity_case_name);

}  // namespace
}  // namespace kvb
