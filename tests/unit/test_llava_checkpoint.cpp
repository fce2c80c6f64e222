// LLaVA-1.5 checkpoint handling: the published config.json and tensor layout, the tiny checkpoint's
// file set, both tensor naming conventions, prompt expansion, and errors naming file and field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/config.h"
#include "core/registry.h"
#include "core/safetensors.h"
#include "engine/engine.h"
#include "models/llava/config.h"
#include "models/model.h"
#include "models/llava/tiny_model.h"
#include "models/llava/weights.h"
#include "tests/unit/error_text.h"
#include "tests/unit/tiny_checkpoint_checks.h"
#include "vision/clip_processor.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using kvb::test::error_text;

// config.json of llava-hf/llava-1.5-7b-hf as published on the Hugging Face hub.
const char* kPublished = R"({
  "architectures": ["LlavaForConditionalGeneration"], "ignore_index": -100, "image_token_index": 32000,
  "model_type": "llava", "pad_token_id": 32001, "projector_hidden_act": "gelu",
  "text_config": {"_name_or_path": "lmsys/vicuna-7b-v1.5", "architectures": ["LlamaForCausalLM"],
    "max_position_embeddings": 4096, "model_type": "llama", "rms_norm_eps": 1e-05, "torch_dtype": "float16",
    "vocab_size": 32064},
  "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.36.0.dev0",
  "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
    "model_type": "clip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14,
    "projection_dim": 768, "vocab_size": 32000},
  "vision_feature_layer": -2, "vision_feature_select_strategy": "default", "vocab_size": 32064})";

// By value: the remover below runs at exit, after function-local statics may be gone.
fs::path scratch() { return fs::temp_directory_path() / ("kvb_llava_test_" + std::to_string(::getpid())); }
struct RemoveScratch {
  ~RemoveScratch() {
    std::error_code ec;
    fs::remove_all(scratch(), ec);
  }
} remove_scratch;

const std::string& tiny_dir() {
  static const std::string d = [] {
    const std::string dir = (scratch() / "tiny").string();
    kvb::Registry<kvb::ModelFamily>::instance().create("llava", json::object())->make_tiny(dir, 3, json::object());
    return dir;
  }();
  return d;
}

TEST(LlavaConfig, PublishedConfigTakesTransformersDefaults) {
  const auto c = kvb::llava::parse_config(json::parse(kPublished), "config.json");
  // LlamaConfig defaults for the keys the file leaves out.
  EXPECT_EQ(c.text.hidden_size, 4096);
  EXPECT_EQ(c.text.intermediate_size, 11008);
  EXPECT_EQ(c.text.num_hidden_layers, 32);
  EXPECT_EQ(c.text.num_attention_heads, 32);
  EXPECT_EQ(c.text.num_key_value_heads, 32);
  EXPECT_EQ(c.text.head_dim, 128);
  EXPECT_DOUBLE_EQ(c.text.rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(c.text.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.text.vocab_size, 32064);
  EXPECT_EQ(c.vision.hidden_size, 1024);
  EXPECT_EQ(c.vision.num_hidden_layers, 24);
  EXPECT_EQ(c.vision.patches_per_side(), 24);
  EXPECT_EQ(c.image_tokens(), 576);        // CLS dropped
  EXPECT_EQ(c.vision_layers_used(), 23);   // hidden_states[-2]
  EXPECT_EQ(c.image_token_index, 32000);
}

TEST(LlavaConfig, TensorSpecsMatchThePublishedIndex) {
  // llava-hf/llava-1.5-7b-hf's model.safetensors.index.json lists 686 tensors.
  const auto specs = kvb::llava::tensor_specs(kvb::llava::parse_config(json::parse(kPublished), "config.json"));
  EXPECT_EQ(specs.size(), 686u);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& s : specs) shapes[s.name] = s.shape;
  EXPECT_EQ(shapes.at("language_model.model.embed_tokens.weight"), (std::vector<int64_t>{32064, 4096}));
  EXPECT_EQ(shapes.at("language_model.lm_head.weight"), (std::vector<int64_t>{32064, 4096}));
  EXPECT_EQ(shapes.at("vision_tower.vision_model.embeddings.patch_embedding.weight"), (std::vector<int64_t>{1024, 3, 14, 14}));
  EXPECT_EQ(shapes.at("vision_tower.vision_model.embeddings.position_embedding.weight"), (std::vector<int64_t>{577, 1024}));
  EXPECT_EQ(shapes.at("multi_modal_projector.linear_1.weight"), (std::vector<int64_t>{4096, 1024}));
  EXPECT_TRUE(shapes.count("vision_tower.vision_model.pre_layrnorm.bias"));
  EXPECT_TRUE(shapes.count("vision_tower.vision_model.encoder.layers.23.mlp.fc2.bias"));
  EXPECT_EQ(kvb::llava_layout::new_style_name("language_model.model.layers.0.mlp.up_proj.weight"),
            "model.language_model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(kvb::llava_layout::new_style_name("language_model.lm_head.weight"), "lm_head.weight");
  EXPECT_EQ(kvb::llava_layout::new_style_name("vision_tower.vision_model.pre_layrnorm.weight"),
            "model.vision_tower.vision_model.pre_layrnorm.weight");
  EXPECT_EQ(kvb::llava_layout::new_style_name("multi_modal_projector.linear_2.bias"), "model.multi_modal_projector.linear_2.bias");
}

TEST(LlavaConfig, ErrorsNameFileAndField) {
  auto parse = [](const std::string& edit_key, const json& value, bool in_text) {
    json j = json::parse(kPublished);
    (in_text ? j["text_config"] : j)[edit_key] = value;
    return error_text([&] { kvb::llava::parse_config(j, "m/config.json"); });
  };
  EXPECT_NE(parse("model_type", "mistral", true).find("m/config.json text_config: model_type 'mistral'"), std::string::npos);
  EXPECT_NE(parse("hidden_size", "big", true).find("field 'hidden_size' has the wrong type"), std::string::npos);
  EXPECT_NE(parse("vision_feature_layer", 30, false).find("m/config.json: field 'vision_feature_layer' = 30"),
            std::string::npos);
  EXPECT_NE(parse("vision_feature_select_strategy", "cls", false).find("field 'vision_feature_select_strategy'"),
            std::string::npos);
  EXPECT_NE(parse("projector_hidden_act", "relu", false).find("field 'projector_hidden_act'"), std::string::npos);
  EXPECT_NE(parse("num_key_value_heads", 5, true).find("field 'num_attention_heads' (32) is not a multiple"),
            std::string::npos);
  EXPECT_NE(parse("rope_scaling", json{{"type", "linear"}, {"factor", 2.0}}, true).find("field 'rope_scaling'"),
            std::string::npos);
}

TEST(LlavaTinyModel, WritesThePublishedFileSetInTwoFloat16Shards) {
  const fs::path d = tiny_dir();
  kvb::test::expect_published_file_set(d);
  const json index = kvb::read_json_file((d / "model.safetensors.index.json").string());
  const auto c = kvb::llava::parse_config(kvb::read_json_file((d / "config.json").string()), "config.json");
  const auto specs = kvb::llava::tensor_specs(c);
  EXPECT_EQ(index.at("weight_map").size(), specs.size());
  const kvb::SafeTensors st = kvb::SafeTensors::open(d.string());
  kvb::test::expect_float16_specs(st, specs);
  int64_t bytes = 0;
  for (const auto& s : specs) {
    EXPECT_EQ(fs::path(st.file_of(s.name)).filename(), index["weight_map"][s.name].get<std::string>());
    int64_t n = 2;
    for (auto x : s.shape) n *= x;
    bytes += n;
  }
  EXPECT_EQ(index["metadata"]["total_size"].get<int64_t>(), bytes);
  // The published tokenizer's added ids.
  const json added = kvb::read_json_file((d / "added_tokens.json").string());
  EXPECT_EQ(added.at("<image>"), 32000);
  EXPECT_EQ(added.at("<pad>"), 32001);
  EXPECT_EQ(c.text.vocab_size, 32064);
  EXPECT_EQ(c.image_tokens(), 64);
}

std::vector<kvb::Message> one_image_prompt() {
  // A 24-bit BMP written by hand (bottom-up rows, 4-byte aligned), decodable in every build.
  const fs::path bmp = scratch() / "img.bmp";
  if (!fs::exists(bmp)) {
    const int w = 23, h = 17, row = (w * 3 + 3) / 4 * 4;
    std::string px(static_cast<size_t>(row * h), '\0');
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int ch = 0; ch < 3; ++ch) px[static_cast<size_t>(y * row + x * 3 + ch)] = static_cast<char>((x * 11 + y * 7 + ch * 50) & 255);
    auto le = [](uint32_t v, int n) {
      std::string s;
      for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 255);
      return s;
    };
    const std::string file = "BM" + le(54 + static_cast<uint32_t>(px.size()), 4) + le(0, 4) + le(54, 4) + le(40, 4) +
                             le(w, 4) + le(h, 4) + le(1, 2) + le(24, 2) + le(0, 4) + le(static_cast<uint32_t>(px.size()), 4) +
                             le(2835, 4) + le(2835, 4) + le(0, 4) + le(0, 4) + px;
    std::ofstream(bmp, std::ios::binary) << file;
  }
  return {{"user", {kvb::image_segment(kvb::MediaRef{bmp.string(), {}, {}, 0, 0}), kvb::text_segment("What is this?")}}};
}

TEST(LlavaTinyModel, ExpandsEachImageToItsTokens) {
  auto bb = kvb::Registry<kvb::ModelFamily>::instance().create("llava", json::object())->load(tiny_dir(), json::object(),
                                                                                              at::TensorOptions());
  const kvb::PreparedPrompt p = bb->prepare(one_image_prompt());
  // <s> USER: ▁ <image>x64 ▁ \n ...: the published tokenizer keeps the ▁ before and after <image>.
  ASSERT_EQ(p.media.size(), 1u);
  EXPECT_EQ(p.media[0].end - p.media[0].begin, 64);
  EXPECT_EQ(p.ids[p.media[0].begin].item<int64_t>(), 32000);
  EXPECT_EQ(p.ids.eq(32000).sum().item<int64_t>(), 64);
  EXPECT_EQ(p.modality.eq(kvb::kImage).sum().item<int64_t>(), 64);
  EXPECT_EQ(p.ids[0].item<int64_t>(), 1);  // BOS, as LlavaProcessor's tokenizer call adds it
  EXPECT_EQ(p.positions.sizes(), (std::vector<int64_t>{1, p.ids.size(0)}));
  EXPECT_EQ(p.next_position, p.ids.size(0));

  auto typed = one_image_prompt();
  typed[0].content.push_back(kvb::text_segment("and <image>"));
  EXPECT_NE(error_text([&] { bb->prepare(typed); }).find("the messages hold 1 images but the rendered prompt has 2"),
            std::string::npos);
  std::vector<kvb::Message> video{{"user", {kvb::video_segment(kvb::MediaRef{"clip.mp4", {}, "clip.mp4", 0, 0})}}};
  EXPECT_NE(error_text([&] { bb->prepare(video); }).find("LLaVA-1.5 takes images only"), std::string::npos);
}

// transformers >= 4.52 saves model.language_model.*, model.vision_tower.*, model.multi_modal_projector.*
// and lm_head.*: the same weights under those names give the same prefill, bit for bit.
TEST(LlavaTinyModel, LoadsBothTensorNamingConventions) {
  const fs::path renamed = scratch() / "renamed";
  fs::create_directories(renamed);
  for (const auto& e : fs::directory_iterator(tiny_dir())) {
    const std::string f = e.path().filename().string();
    if (f.rfind("model", 0) != 0) fs::copy_file(e.path(), renamed / f, fs::copy_options::overwrite_existing);
  }
  const kvb::SafeTensors st = kvb::SafeTensors::open(tiny_dir());
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& info : st.tensors()) tensors.emplace_back(kvb::llava_layout::new_style_name(info.name), st.get(info.name, at::kHalf));
  kvb::write_safetensors((renamed / "model.safetensors").string(), tensors, {{"format", "pt"}});

  kvb::Needs needs;
  needs.window_queries = 3;
  const auto a = kvb::load_model(tiny_dir())->capture_prefill(one_image_prompt(), needs);
  const auto b = kvb::load_model(renamed.string())->capture_prefill(one_image_prompt(), needs);
  kvb::test::expect_same_prefill(a, b);

  // A tensor missing under both names is named with both.
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                               [](const auto& t) { return t.first == "model.multi_modal_projector.linear_2.weight"; }),
                tensors.end());
  kvb::write_safetensors((renamed / "model.safetensors").string(), tensors, {{"format", "pt"}});
  EXPECT_NE(error_text([&] { kvb::load_model(renamed.string()); })
                .find("tensor 'multi_modal_projector.linear_2.weight' (or 'model.multi_modal_projector.linear_2.weight') is missing"),
            std::string::npos);
}

TEST(ClipProcessor, ShortestEdgeAndConfigErrors) {
  EXPECT_EQ(kvb::shortest_edge_size(131, 173, 112), (std::pair<int64_t, int64_t>{112, 147}));  // int(112*173/131) = 147
  EXPECT_EQ(kvb::shortest_edge_size(150, 97, 112), (std::pair<int64_t, int64_t>{173, 112}));
  const json good = kvb::read_json_file(tiny_dir() + "/preprocessor_config.json");
  json bad = good;
  bad["crop_size"] = {{"height", 500}, {"width", 500}};
  EXPECT_NE(error_text([&] { kvb::ClipProcessorConfig::from_json(bad, "p.json"); }).find("p.json: field 'crop_size' (500x500)"),
            std::string::npos);
  bad = good;
  bad["size"] = {{"height", 112}, {"width", 112}};
  EXPECT_NE(error_text([&] { kvb::ClipProcessorConfig::from_json(bad, "p.json"); }).find("p.json: field 'size'"),
            std::string::npos);
  bad = good;
  bad["do_center_crop"] = false;
  EXPECT_NE(error_text([&] { kvb::ClipProcessorConfig::from_json(bad, "p.json"); }).find("do_center_crop"), std::string::npos);
}

}  // namespace
