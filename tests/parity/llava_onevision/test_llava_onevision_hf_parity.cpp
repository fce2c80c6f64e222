// kvbench's LLaVA-OneVision against HF transformers 4.50.0 (goldens made by make_goldens.py on the
// CPU): token ids, pixel values, every layer's post-RoPE K/V, the last queries, the prefill logits
// and the greedy continuation, for text, one image (several tiles, unpadding), two images over
// turns (one large enough for the anyres_max_9 pooling) and a video of 4 frames, in float32 and
// bfloat16; and the published 384 px processor alone (token counts, pixel values) on odd sizes.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "compress/method.h"
#include "core/config.h"
#include "core/registry.h"
#include "engine/engine.h"
#include "models/llava_onevision/video_frames.h"
#include "models/model.h"
#include "parity/family_goldens.h"
#include "parity/hf_greedy.h"
#include "vision/anyres_processor.h"
#include "vision/image.h"

namespace kvb {
namespace {

test::FamilyGoldens& g() {
  static test::FamilyGoldens goldens("llava_onevision", "llava_onevision", 0);
  return goldens;
}
const std::string& goldens_dir() { return g().dir(); }
const nlohmann::json& manifest() { return g().manifest(); }
at::Tensor golden(const std::string& name) { return g().tensor(name); }

std::vector<Message> messages_of(const nlohmann::json& messages) {
  std::vector<Message> out;
  for (const auto& jm : messages) {
    Message m{jm.at("role").get<std::string>(), {}};
    for (const auto& c : jm.at("content")) {
      const std::string type = c.at("type").get<std::string>();
      if (type == "text") {
        m.content.push_back(text_segment(c.at("text").get<std::string>()));
        continue;
      }
      const MediaRef ref{goldens_dir() + "/" + c.at("file").get<std::string>(), {}, {}, 0, 0};
      m.content.push_back(type == "video" ? video_segment(ref) : image_segment(ref));
    }
    out.push_back(std::move(m));
  }
  return out;
}

struct Case {
  std::string name, dtype;
};

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const char* name : {"text", "one_image", "two_images", "video"})
    for (const char* dtype : {"float32", "bfloat16"}) out.push_back({name, dtype});
  return out;
}

class OnevisionHfParity : public ::testing::TestWithParam<Case> {};

TEST_P(OnevisionHfParity, IdsAndPixels) {
  const Case& c = GetParam();
  const auto& meta = manifest().at("cases").at(c.name);
  Needs none;
  const PrefillCapture cap = g().model(c.dtype).capture_prefill(messages_of(meta.at("messages")), none);
  test::expect_equal_ids(cap.input_ids, golden(c.name + ".input_ids"), c.name + " input ids");
  if (c.dtype != "float32") return;
  // The processors alone, on the same files the family reads.
  const auto proc = AnyresProcessorConfig::from_json(read_json_file(g().tiny_dir() + "/preprocessor_config.json"),
                                                     "preprocessor_config.json");
  int64_t image = 0;
  for (const auto& m : meta.at("messages"))
    for (const auto& s : m.at("content")) {
      const std::string type = s.at("type").get<std::string>(), file = goldens_dir() + "/" + s.value("file", "");
      if (type == "image") {
        const std::string name = c.name + ".pixel_values." + std::to_string(image++);
        test::expect_close(anyres_preprocess(decode_image_file(file), proc).pixel_values, golden(name), 1e-5, name,
                           {"tile", "channel", "y", "x"});
      } else if (type == "video") {
        std::vector<at::Tensor> frames;
        for (const auto& f : llava_onevision::load_video_frames(MediaRef{file, {}, {}, 0, 0}, 8))
          frames.push_back(squash_preprocess(f, proc));
        test::expect_close(at::stack(frames), golden(c.name + ".pixel_values_videos"), 1e-5, c.name + " video pixels",
                           {"frame", "channel", "y", "x"});
      }
    }
}

TEST_P(OnevisionHfParity, KeysValuesQueriesLogits) {
  const Case& c = GetParam();
  const auto& meta = manifest().at("cases").at(c.name);
  const std::string key = c.name + "." + c.dtype + ".";
  Needs needs;
  needs.window_queries = manifest().at("last_queries").get<int64_t>();
  const PrefillCapture cap = g().model(c.dtype).capture_prefill(messages_of(meta.at("messages")), needs);
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

// parity/hf_greedy.h's rule; its bfloat16 near-tie allowance applies to text too: in the text case
// HF's own top-2 margin reaches 0 (an exact bfloat16 tie, broken by index order).
TEST_P(OnevisionHfParity, GreedyContinuation) {
  const Case& c = GetParam();
  const auto& meta = manifest().at("cases").at(c.name);
  const std::string key = c.name + "." + c.dtype + ".";
  auto method = Registry<CompressionMethod>::instance().create("full", nlohmann::json::object());
  GenerationOptions opt;
  opt.max_new_tokens = manifest().at("greedy_tokens").get<int64_t>();
  GenerationResult r = g().model(c.dtype).generate(messages_of(meta.at("messages")), opt, *method);
  test::expect_hf_greedy(r.ids, r.stop_reason == "eos", golden(key + "greedy_tokens"), golden(key + "greedy_margins"),
                         golden(key + "greedy_uncached_argmax"), golden(key + "last_logits"),
                         c.dtype == "bfloat16", key);
}

INSTANTIATE_TEST_SUITE_P(Cases, OnevisionHfParity, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name + "_" + i.param.dtype; });

// The published geometry (384 px tiles, 27x27 = 729 features, 36 pinpoints, anyres_max_9): token
// counts exactly as LlavaOnevisionProcessor expands <image>, every 5th pixel row/column of each tile.
TEST(OnevisionHfProcessor, PublishedGeometryOddSizes) {
  const auto& rg = manifest().at("real_geometry");
  const std::string cfg_file = std::string(KVB_TEST_DATA) + "/fixtures/llava_onevision/preprocessor_config.json";
  const auto proc = AnyresProcessorConfig::from_json(read_json_file(cfg_file), cfg_file);
  const int64_t stride = rg.at("stride").get<int64_t>();
  for (const auto& [name, im] : rg.at("images").items()) {
    const Image image = decode_image_file(goldens_dir() + "/" + im.at("file").get<std::string>());
    const AnyresLayout L = anyres_layout(image.height(), image.width(), proc.pinpoints, proc.tile, 27, 9);
    EXPECT_EQ(L.tokens(), im.at("tokens").get<int64_t>()) << name;
    const at::Tensor pv = anyres_preprocess(image, proc).pixel_values;
    EXPECT_EQ(pv.size(0), im.at("tiles").get<int64_t>()) << name;
    const at::Tensor idx = at::arange(0, proc.tile, stride, at::kLong);
    test::expect_close(pv.index_select(2, idx).index_select(3, idx), golden(name + ".pixel_values_strided"), 1e-5,
                       name + " pixel values (every " + std::to_string(stride) + "th row/column)",
                       {"tile", "channel", "y/stride", "x/stride"});
  }
  // The example: a 64x48 image is 1317 tokens.
  EXPECT_EQ(anyres_layout(48, 64, proc.pinpoints, proc.tile, 27, 9).tokens(), 1317);
}

}  // namespace
}  // namespace kvb
