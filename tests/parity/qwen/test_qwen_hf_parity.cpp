// kvbench's Qwen2.5-VL against HF transformers 4.50.0 (goldens made by make_goldens.py on the CPU):
// token ids, M-RoPE positions, pixel values, every layer's post-RoPE K/V, the last queries, the
// prefill logits and the greedy continuation, for text, one image, two interleaved images, a video
// and a long text (crossing a prefill chunk), in float32 and bfloat16.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/registry.h"
#include "engine/engine.h"
#include "models/model.h"
#include "models/qwen2_5_vl/processor.h"
#include "models/qwen2_5_vl/video_sampling.h"
#include "parity/family_goldens.h"
#include "vision/image.h"

namespace kvb {
namespace {

// The long text (> 600 tokens) crosses prefill chunk boundaries.
constexpr int64_t kPrefillChunk = 257;

test::FamilyGoldens& g() {
  static test::FamilyGoldens goldens("qwen2_5_vl", "qwen", kPrefillChunk);
  return goldens;
}
const std::string& goldens_dir() { return g().dir(); }
at::Tensor golden(const std::string& name) { return g().tensor(name); }
const std::string& tiny_dir() { return g().tiny_dir(); }

std::vector<Message> messages_of(const nlohmann::json& content) {
  Message m{"user", {}};
  for (const auto& c : content) {
    const std::string type = c.at("type");
    if (type == "text") {
      m.content.push_back(text_segment(c.at("text")));
    } else if (type == "image") {
      m.content.push_back(image_segment(g().media(c.at("file").get<std::string>())));
    } else {
      MediaRef v = g().media(c.at("folder").get<std::string>());
      v.fps = c.at("fps").get<double>();
      m.content.push_back(video_segment(v));
    }
  }
  return {m};
}

using Case = test::ParityCase;

class QwenHfParity : public ::testing::TestWithParam<Case> {};

TEST_P(QwenHfParity, IdsPositionsAndPixels) {
  const Case& c = GetParam();
  const auto& meta = g().case_meta(c.name);
  static const std::unique_ptr<Backbone> bb =
      Registry<ModelFamily>::instance()
          .create("qwen2_5_vl", nlohmann::json::object())
          ->load(tiny_dir(), nlohmann::json::object(), at::TensorOptions().dtype(at::kFloat));
  const PreparedPrompt p = bb->prepare(messages_of(meta.at("content")));
  test::expect_equal_ids(p.ids, golden(c.name + ".input_ids"), c.name + " input ids");
  test::expect_equal_ids(p.positions, golden(c.name + ".position_ids"), c.name + " M-RoPE position ids",
                         {"axis", "position"});

  // The processor alone, on the same files the family reads.
  const auto proc = QwenProcessorConfig::from_json(read_json_file(tiny_dir() + "/preprocessor_config.json"),
                                                   "preprocessor_config.json");
  std::vector<VisionInput> inputs;
  for (const auto& seg : meta.at("content")) {
    if (seg.at("type") == "image") inputs.push_back(preprocess_image(decode_image_file(goldens_dir() + "/" + seg.at("file").get<std::string>()), proc));
    if (seg.at("type") == "video") {
      VideoSamplingConfig vc;
      vc.fps = seg.at("fps");
      inputs.push_back(preprocess_video(sample_frame_folder(goldens_dir() + "/" + seg.at("folder").get<std::string>(), vc), proc));
    }
  }
  if (inputs.empty()) return;
  bool video = false;
  for (const auto& seg : meta.at("content")) video = video || seg.at("type") == "video";
  std::vector<at::Tensor> pv, grids;
  for (const auto& in : inputs) pv.push_back(in.pixel_values), grids.push_back(in.grid_thw);
  const std::string k = c.name + (video ? ".pixel_values_videos" : ".pixel_values");
  test::expect_close(at::cat(pv), golden(k), 1e-5, k, {"patch", "value"});
  test::expect_equal_ids(at::cat(grids), golden(c.name + (video ? ".video_grid_thw" : ".image_grid_thw")), "grid_thw");
  if (video) EXPECT_DOUBLE_EQ(inputs[0].second_per_grid_t, meta.at("second_per_grid_ts")[0].get<double>());
}

TEST_P(QwenHfParity, KeysValuesQueriesLogits) {
  const Case& c = GetParam();
  g().expect_prefill(c, messages_of(g().case_meta(c.name).at("content")));
}

// Greedy ids must equal HF's; in bfloat16 with media a step may differ only where HF's own top-2
// margin is below bf16 resolution at that logit, and nothing after that step is comparable.
TEST_P(QwenHfParity, GreedyContinuation) {
  const Case& c = GetParam();
  const std::string key = c.name + "." + c.dtype + ".";
  const GenerationResult r = g().greedy(c.dtype, messages_of(g().case_meta(c.name).at("content")));
  std::vector<int64_t> got = r.ids;
  const at::Tensor want_t = golden(key + "greedy_tokens"), margins = golden(key + "greedy_margins");
  const std::vector<int64_t> want(want_t.data_ptr<int64_t>(), want_t.data_ptr<int64_t>() + want_t.numel());
  if (r.stop_reason == "eos" && got.size() < want.size()) got.push_back(want[got.size()]);  // HF keeps the EOS id
  const bool media = c.name != "text" && c.name != "long_text";
  const double near_tie = c.dtype == "bfloat16" && media
                              ? 2 * test::bf16_ulp(golden(key + "last_logits").abs().max().item<double>())
                              : 0.0;
  const std::vector<double> m(margins.data_ptr<float>(), margins.data_ptr<float>() + margins.numel());
  const std::string err = test::greedy_mismatch(got, want, m, near_tie);
  EXPECT_TRUE(err.empty()) << key << err;
}

TEST(GreedyTieRule, AllowsOnlyNearTiesAndStopsComparingThere) {
  const std::vector<int64_t> want{5, 6, 7, 8};
  EXPECT_EQ(test::greedy_mismatch({5, 6, 7, 8}, want, {1, 1, 1, 1}, 0), "");
  EXPECT_NE(test::greedy_mismatch({5, 6, 9, 8}, want, {1, 1, 1, 1}, 0), "");       // exact required
  EXPECT_NE(test::greedy_mismatch({5, 6, 9, 8}, want, {1, 1, 0.5, 1}, 0.1), "");   // margin too large
  EXPECT_EQ(test::greedy_mismatch({5, 6, 9, 1}, want, {1, 1, 0.05, 1}, 0.1), "");  // near tie, rest not compared
  EXPECT_NE(test::greedy_mismatch({5, 9, 9, 1}, want, {1, 0.5, 0.05, 1}, 0.1), ""); // an earlier clear flip
  EXPECT_NE(test::greedy_mismatch({5, 6}, want, {1, 1, 0.05, 1}, 0.1), "");        // stopped early
}

INSTANTIATE_TEST_SUITE_P(Cases, QwenHfParity,
                         ::testing::ValuesIn(test::parity_cases({"text", "one_image", "two_images", "video", "long_text"})),
                         test::parity_case_name);

}  // namespace
}  // namespace kvb
