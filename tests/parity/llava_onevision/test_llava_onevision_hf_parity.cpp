// kvbench's LLaVA-OneVision against HF transformers 4.50.0 (goldens made by make_goldens.py on the
// CPU): token ids, pixel values, every layer's post-RoPE K/V, the last queries, the prefill logits
// and the greedy continuation, for text, one image (several tiles, unpadding), two images over
// turns (one large enough for the anyres_max_9 pooling) and a video of 4 frames, in float32 and
// bfloat16; and the published 384 px processor alone (token counts, pixel values) on odd sizes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "engine/engine.h"
#include "models/llava_onevision/video_frames.h"
#include "parity/family_goldens.h"
#include "vision/anyres_processor.h"
#include "vision/image.h"

namespace kvb {
namespace {

test::FamilyGoldens& g() {
  static test::FamilyGoldens goldens("llava_onevision", "llava_onevision", 0);
  return goldens;
}

class OnevisionHfParity : public ::testing::TestWithParam<test::ParityCase> {};

TEST_P(OnevisionHfParity, IdsAndPixels) {
  const auto& c = GetParam();
  const auto& meta = g().case_meta(c.name);
  Needs none;
  const PrefillCapture cap = g().model(c.dtype).capture_prefill(g().chat_messages(meta.at("messages")), none);
  test::expect_equal_ids(cap.input_ids, g().tensor(c.name + ".input_ids"), c.name + " input ids");
  if (c.dtype != "float32") return;
  // The processors alone, on the same files the family reads.
  const auto proc = AnyresProcessorConfig::from_json(read_json_file(g().tiny_dir() + "/preprocessor_config.json"),
                                                     "preprocessor_config.json");
  int64_t image = 0;
  for (const auto& m : meta.at("messages"))
    for (const auto& s : m.at("content")) {
      const std::string type = s.at("type").get<std::string>();
      const MediaRef file = g().media(s.value("file", ""));
      if (type == "image") {
        const std::string name = c.name + ".pixel_values." + std::to_string(image++);
        test::expect_close(anyres_preprocess(decode_image_file(file.path), proc).pixel_values, g().tensor(name), 1e-5,
                           name, {"tile", "channel", "y", "x"});
      } else if (type == "video") {
        std::vector<at::Tensor> frames;
        for (const auto& f : llava_onevision::load_video_frames(file, 8)) frames.push_back(squash_preprocess(f, proc));
        test::expect_close(at::stack(frames), g().tensor(c.name + ".pixel_values_videos"), 1e-5,
                           c.name + " video pixels", {"frame", "channel", "y", "x"});
      }
    }
}

TEST_P(OnevisionHfParity, KeysValuesQueriesLogits) {
  const auto& c = GetParam();
  g().expect_prefill(c, g().chat_messages(g().case_meta(c.name).at("messages")));
}

// parity/hf_greedy.h's rule; its bfloat16 near-tie allowance applies to text too: in the text case
// HF's own top-2 margin reaches 0 (an exact bfloat16 tie, broken by index order).
TEST_P(OnevisionHfParity, GreedyContinuation) {
  const auto& c = GetParam();
  g().expect_hf_greedy_continuation(c, g().chat_messages(g().case_meta(c.name).at("messages")), c.dtype == "bfloat16");
}

INSTANTIATE_TEST_SUITE_P(Cases, OnevisionHfParity,
                         ::testing::ValuesIn(test::parity_cases({"text", "one_image", "two_images", "video"})),
                         test::parity_case_name);

// The published geometry (384 px tiles, 27x27 = 729 features, 36 pinpoints, anyres_max_9): token
// counts exactly as LlavaOnevisionProcessor expands <image>, every 5th pixel row/column of each tile.
TEST(OnevisionHfProcessor, PublishedGeometryOddSizes) {
  const auto& rg = g().manifest().at("real_geometry");
  const std::string cfg_file = std::string(KVB_TEST_DATA) + "/fixtures/llava_onevision/preprocessor_config.json";
  const auto proc = AnyresProcessorConfig::from_json(read_json_file(cfg_file), cfg_file);
  const int64_t stride = rg.at("stride").get<int64_t>();
  for (const auto& [name, im] : rg.at("images").items()) {
    const Image image = decode_image_file(g().media(im.at("file").get<std::string>()).path);
    const AnyresLayout L = anyres_layout(image.height(), image.width(), proc.pinpoints, proc.tile, 27, 9);
    EXPECT_EQ(L.tokens(), im.at("tokens").get<int64_t>()) << name;
    const at::Tensor pv = anyres_preprocess(image, proc).pixel_values;
    EXPECT_EQ(pv.size(0), im.at("tiles").get<int64_t>()) << name;
    const at::Tensor idx = at::arange(0, proc.tile, stride, at::kLong);
    test::expect_close(pv.index_select(2, idx).index_select(3, idx), g().tensor(name + ".pixel_values_strided"), 1e-5,
                       name + " pixel values (every " + std::to_string(stride) + "th row/column)",
                       {"tile", "channel", "y/stride", "x/stride"});
  }
  // The example: a 64x48 image is 1317 tokens.
  EXPECT_EQ(anyres_layout(48, 64, proc.pinpoints, proc.tile, 27, 9).tokens(), 1317);
}

}  // namespace
}  // namespace kvb
