// LLaVA-OneVision checkpoint handling: the published config.json and tensor layout, the tiny
// checkpoint's file set, both tensor naming conventions, prompt expansion for images and videos,
// the ChatML template, and bad folders giving one error naming the file and the tensor or field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "compress/method.h"
#include "core/config.h"
#include "core/registry.h"
#include "core/safetensors.h"
#include "engine/engine.h"
#include "models/llava_layout.h"
#include "models/llava_onevision/config.h"
#include "models/llava_onevision/weights.h"
#include "models/model.h"
#include "tests/unit/error_text.h"
#include "tests/unit/qwen_test_support.h"
#include "tests/unit/tiny_checkpoint_checks.h"
#include "text/chat_template.h"
#include "vision/anyres_processor.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using kvb::test::error_text;
namespace ov = kvb::llava_onevision;

const std::string kFixtures = std::string(KVB_TEST_DATA) + "/fixtures/llava_onevision";

json published_config() { return kvb::read_json_file(kFixtures + "/config.json"); }

fs::path scratch() { return kvb::test::scratch_dir() / "onevision"; }

const std::string& tiny_dir() {
  static const std::string d = [] {
    const std::string dir = (scratch() / "tiny").string();
    kvb::Registry<kvb::ModelFamily>::instance().create("llava_onevision", json::object())->make_tiny(dir, 3, json::object());
    return dir;
  }();
  return d;
}

// A folder holding the tiny checkpoint's files except the weights, which `tensors` replace.
std::string variant(const std::string& name, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                    const json& config = nullptr) {
  const fs::path dir = scratch() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(tiny_dir())) {
    const std::string f = e.path().filename().string();
    if (f.rfind("model", 0) != 0) fs::copy_file(e.path(), dir / f);
  }
  kvb::write_safetensors((dir / "model.safetensors").string(), tensors, {{"format", "pt"}});
  if (!config.is_null()) std::ofstream(dir / "config.json") << config.dump(2);
  return dir.string();
}

std::vector<std::pair<std::string, at::Tensor>> tiny_tensors(bool new_names) {
  const kvb::SafeTensors st = kvb::SafeTensors::open(tiny_dir());
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& info : st.tensors())
    out.emplace_back(new_names ? kvb::llava_layout::new_style_name(info.name) : info.name, st.get(info.name, at::kHalf));
  return out;
}

TEST(OnevisionConfig, PublishedConfigTakesTransformersDefaults) {
  const auto c = ov::parse_config(published_config(), "config.json");
  EXPECT_EQ(c.text.hidden_size, 3584);
  EXPECT_EQ(c.text.num_hidden_layers, 28);
  EXPECT_EQ(c.text.num_key_value_heads, 4);
  EXPECT_EQ(c.text.head_dim, 128);
  EXPECT_DOUBLE_EQ(c.text.rms_norm_eps, 1e-6);  // Qwen2Config default
  EXPECT_EQ(c.text.vocab_size, 152128);
  EXPECT_EQ(c.vision.hidden_size, 1152);
  EXPECT_EQ(c.vision.num_hidden_layers, 26);
  EXPECT_DOUBLE_EQ(c.vision.layer_norm_eps, 1e-6);  // SiglipVisionConfig default
  EXPECT_EQ(c.tile_tokens(), 729);
  EXPECT_EQ(c.vision_layers_used(), 26);  // hidden_states[-1]
  EXPECT_EQ(c.max_tiles, 9);
  EXPECT_EQ(c.image_grid_pinpoints, ov::default_pinpoints(384));
  EXPECT_EQ(c.image_token_index, 151646);
  EXPECT_EQ(c.video_token_index, 151647);
}

TEST(OnevisionConfig, TensorSpecsMatchThePublishedCheckpoint) {
  const auto specs = ov::tensor_specs(ov::parse_config(published_config(), "config.json"));
  // LLM 1 + 28 * 12 + 2, SigLIP 3 + 26 * 16 + 2, projector 4, image_newline.
  EXPECT_EQ(specs.size(), 765u);
  int64_t numel = 0;
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& s : specs) {
    int64_t n = 1;
    for (auto x : s.shape) n *= x;
    numel += n;
    shapes[s.name] = s.shape;
  }
  // The float16 total the hub's four shards hold (../shared/reference/hf/SOURCES.md).
  EXPECT_EQ(numel * 2, 16061615168);
  EXPECT_EQ(shapes.at("image_newline"), (std::vector<int64_t>{3584}));
  EXPECT_EQ(shapes.at("vision_tower.vision_model.embeddings.position_embedding.weight"), (std::vector<int64_t>{729, 1152}));
  EXPECT_EQ(shapes.at("language_model.model.layers.0.self_attn.k_proj.bias"), (std::vector<int64_t>{512}));
  EXPECT_EQ(shapes.at("multi_modal_projector.linear_1.weight"), (std::vector<int64_t>{3584, 1152}));
  EXPECT_EQ(kvb::llava_layout::new_style_name("image_newline"), "model.image_newline");
}

TEST(OnevisionConfig, ErrorsNameFileAndField) {
  auto parse = [](const std::string& key, const json& value, bool in_text) {
    json j = published_config();
    (in_text ? j["text_config"] : j)[key] = value;
    return error_text([&] { ov::parse_config(j, "m/config.json"); });
  };
  EXPECT_NE(parse("vision_feature_select_strategy", "cls", false)
                .find("m/config.json: field 'vision_feature_select_strategy' is 'cls'"),
            std::string::npos);
  EXPECT_NE(parse("vision_feature_select_strategy", "default", false).find("drops a CLS token"), std::string::npos);
  EXPECT_NE(parse("vision_aspect_ratio", "pad", false).find("field 'vision_aspect_ratio' is 'pad'"), std::string::npos);
  EXPECT_NE(parse("image_grid_pinpoints", json{{384, 500}}, false).find("entry [384, 500] is not a multiple"),
            std::string::npos);
  EXPECT_NE(parse("model_type", "llama", true).find("m/config.json text_config: model_type 'llama'"), std::string::npos);
  EXPECT_NE(parse("num_key_value_heads", 5, true).find("field 'num_attention_heads' (28) is not a multiple"),
            std::string::npos);
}

TEST(OnevisionTinyModel, WritesThePublishedFileSetInTwoFloat16Shards) {
  const fs::path d = tiny_dir();
  kvb::test::expect_published_file_set(d);
  // The published key sets, top level and nested (only the sizes differ).
  const json pub = published_config(), tiny = kvb::read_json_file((d / "config.json").string());
  auto keys = [](const json& o) {
    std::set<std::string> k;
    for (const auto& [key, v] : o.items()) k.insert(key);
    return k;
  };
  EXPECT_EQ(keys(tiny), keys(pub));
  EXPECT_EQ(keys(tiny["text_config"]), keys(pub["text_config"]));
  EXPECT_EQ(keys(tiny["vision_config"]), keys(pub["vision_config"]));
  EXPECT_EQ(keys(kvb::read_json_file((d / "preprocessor_config.json").string())),
            keys(kvb::read_json_file(kFixtures + "/preprocessor_config.json")));
  EXPECT_EQ(kvb::read_json_file((d / "chat_template.json").string()), kvb::read_json_file(kFixtures + "/chat_template.json"));
  EXPECT_EQ(kvb::read_json_file((d / "added_tokens.json").string()), kvb::read_json_file(kFixtures + "/added_tokens.json"));
  const auto c = ov::parse_config(tiny, "config.json");
  const json index = kvb::read_json_file((d / "model.safetensors.index.json").string());
  const auto specs = ov::tensor_specs(c);
  EXPECT_EQ(index.at("weight_map").size(), specs.size());
  kvb::test::expect_float16_specs(kvb::SafeTensors::open(d.string()), specs);
}

// The published template (chat_template.json) rendered by hand for a two-turn conversation.
TEST(OnevisionChatTemplate, ImagesThenVideosThenTextPerMessage) {
  const kvb::MediaRef m{"x", {}, {}, 0, 0};
  std::vector<kvb::Message> msgs{
      {"system", {kvb::text_segment("Be brief.")}},
      {"user", {kvb::text_segment("Compare "), kvb::video_segment(m), kvb::image_segment(m), kvb::text_segment("these.")}},
      {"assistant", {kvb::text_segment("Fine.")}}};
  EXPECT_EQ(kvb::render_chat("llava_onevision", msgs, true),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n<image>\n<video>\nCompare these.<|im_end|>\n"
            "<|im_start|>assistant\nFine.<|im_end|>\n<|im_start|>assistant\n");
}

TEST(OnevisionProcessor, PublishedGeometryTokenCounts) {
  const auto proc = kvb::AnyresProcessorConfig::from_json(
      kvb::read_json_file(kFixtures + "/preprocessor_config.json"), "preprocessor_config.json");
  EXPECT_EQ(proc.tile, 384);
  EXPECT_EQ(proc.pinpoints.size(), 36u);
  // The example: 64x48 -> base 729 + 21 rows of 27 + 21 newlines.
  const auto L = kvb::anyres_layout(48, 64, proc.pinpoints, 384, 27, 9);
  EXPECT_EQ(L.grid_h, 1);
  EXPECT_EQ(L.grid_w, 1);
  EXPECT_EQ(L.rows, 21);
  EXPECT_EQ(L.top, 3);
  EXPECT_FALSE(L.pooled);
  EXPECT_EQ(L.tokens(), 1317);
  json bad = kvb::read_json_file(kFixtures + "/preprocessor_config.json");
  bad["size"] = {{"height", 384}, {"width", 380}};
  EXPECT_NE(error_text([&] { kvb::AnyresProcessorConfig::from_json(bad, "p.json"); }).find("p.json: field 'size'"),
            std::string::npos);
}

std::vector<kvb::Message> media_prompt(bool video) {
  const fs::path frames = scratch() / "frames";
  if (!fs::exists(frames)) {
    fs::create_directories(frames);
    for (int f = 0; f < 3; ++f)
      std::ofstream(frames / ("f" + std::to_string(f) + ".bmp"), std::ios::binary) << kvb::test::bmp_bytes(45, 37, f);
  }
  std::vector<kvb::Segment> content{kvb::image_segment({"", kvb::test::bmp_bytes(173, 131, 1), "a", 0, 0}),
                                    kvb::image_segment({"", kvb::test::bmp_bytes(61, 89, 2), "b", 0, 0})};
  if (video) content.push_back(kvb::video_segment({frames.string(), {}, {}, 0, 0}));
  content.push_back(kvb::text_segment("What is this?"));
  return {{"user", content}};
}

TEST(OnevisionTinyModel, ExpandsImagesAndVideos) {
  auto bb = kvb::Registry<kvb::ModelFamily>::instance()
                .create("llava_onevision", json::object())
                ->load(tiny_dir(), json::object(), at::TensorOptions());
  const kvb::PreparedPrompt p = bb->prepare(media_prompt(true));
  // Tiles of 70 px, 5x5 features: 173x131 -> a 2x3 grid, 10 rows x 13 columns after unpadding;
  // 61x89 -> a 2x1 grid.
  const auto la = kvb::anyres_layout(131, 173, ov::default_pinpoints(70), 70, 5, 9);
  const auto lb = kvb::anyres_layout(89, 61, ov::default_pinpoints(70), 70, 5, 9);
  EXPECT_EQ(la.tokens(), 25 + 10 * 14);
  ASSERT_EQ(p.media.size(), 2u + 3u);  // two images, three frames
  EXPECT_EQ(p.media[0].end - p.media[0].begin, la.tokens());
  EXPECT_EQ(p.media[1].end - p.media[1].begin, lb.tokens());
  EXPECT_EQ(p.ids.eq(151646).sum().item<int64_t>(), la.tokens() + lb.tokens());
  EXPECT_EQ(p.ids.eq(151647).sum().item<int64_t>(), 3 * 9 + 1);  // 3x3 pooled per frame + one newline
  EXPECT_EQ(p.media[4].end - p.media[4].begin, 10);
  EXPECT_EQ(p.modality.eq(kvb::kVideo).sum().item<int64_t>(), 28);
  EXPECT_EQ(p.positions.sizes(), (std::vector<int64_t>{1, p.ids.size(0)}));

  auto typed = media_prompt(false);
  typed[0].content.push_back(kvb::text_segment(" and <image>"));
  EXPECT_NE(error_text([&] { bb->prepare(typed); }).find("the messages hold 2 images but the rendered prompt has 3 placeholders"),
            std::string::npos);
}

// transformers >= 4.52 saves model.language_model.*, model.vision_tower.*, model.multi_modal_projector.*,
// model.image_newline and lm_head.*: the same weights under those names give the same prefill, bit for bit.
TEST(OnevisionTinyModel, LoadsBothTensorNamingConventions) {
  const std::string renamed = variant("renamed", tiny_tensors(true));
  kvb::Needs needs;
  needs.window_queries = 3;
  const auto a = kvb::load_model(tiny_dir())->capture_prefill(media_prompt(true), needs);
  const auto b = kvb::load_model(renamed)->capture_prefill(media_prompt(true), needs);
  kvb::test::expect_same_prefill(a, b);
}

TEST(OnevisionTinyModel, BadFoldersNameFileAndTensor) {
  auto without = [](const std::string& drop) {
    auto t = tiny_tensors(false);
    t.erase(std::remove_if(t.begin(), t.end(), [&](const auto& x) { return x.first == drop; }), t.end());
    return t;
  };
  std::string dir = variant("no_projector", without("multi_modal_projector.linear_2.bias"));
  std::string e = error_text([&] { kvb::load_model(dir); });
  EXPECT_NE(e.find(dir), std::string::npos) << e;
  EXPECT_NE(e.find("tensor 'multi_modal_projector.linear_2.bias' (or 'model.multi_modal_projector.linear_2.bias') is "
                   "missing"),
            std::string::npos)
      << e;

  dir = variant("no_newline", without("image_newline"));
  e = error_text([&] { kvb::load_model(dir); });
  EXPECT_NE(e.find("tensor 'image_newline' (or 'model.image_newline') is missing"), std::string::npos) << e;

  auto t = tiny_tensors(false);
  for (auto& [n, x] : t)
    if (n == "vision_tower.vision_model.embeddings.position_embedding.weight") x = x.narrow(0, 0, 16).contiguous();
  dir = variant("wrong_shape", t);
  e = error_text([&] { kvb::load_model(dir); });
  EXPECT_NE(e.find("model.safetensors: tensor 'vision_tower.vision_model.embeddings.position_embedding.weight' has "
                   "shape [16, 32], expected [25, 32]"),
            std::string::npos)
      << e;

  json cfg = kvb::read_json_file(tiny_dir() + "/config.json");
  cfg["vision_feature_select_strategy"] = "patch";
  dir = variant("bad_strategy", tiny_tensors(false), cfg);
  e = error_text([&] { kvb::load_model(dir); });
  EXPECT_NE(e.find(dir + "/config.json: field 'vision_feature_select_strategy' is 'patch'"), std::string::npos) << e;
}

}  // namespace
