// Qwen2.5-VL checkpoint handling: config.json layouts as published and as newer transformers
// save them, the tiny checkpoint's files against the published file set, load errors naming
// the tensor, the alternative tensor names, and vision-tower properties.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/config.h"
#include "core/safetensors.h"
#include "engine/engine.h"
#include "models/qwen2_5_vl/config.h"
#include "models/qwen2_5_vl/vision_tower.h"
#include "models/qwen2_5_vl/weights.h"
#include "tests/unit/qwen_test_support.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// config.json of Qwen/Qwen2.5-VL-7B-Instruct as published on the Hugging Face hub.
const char* kPublished7B = R"({
  "architectures": ["Qwen2_5_VLForConditionalGeneration"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
  "image_token_id": 151655, "video_token_id": 151656, "hidden_act": "silu", "hidden_size": 3584,
  "initializer_range": 0.02, "intermediate_size": 18944, "max_position_embeddings": 128000, "max_window_layers": 28,
  "model_type": "qwen2_5_vl", "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4,
  "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16", "transformers_version": "4.41.2", "use_cache": true, "use_sliding_window": false,
  "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420,
    "num_heads": 16, "in_chans": 3, "out_hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2,
    "spatial_patch_size": 14, "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31],
    "tokens_per_second": 2, "temporal_patch_size": 2},
  "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}, "vocab_size": 152064})";

// The same model as transformers 4.53 saves it (text keys nested in text_config).
const char* kNested7B = R"({
  "architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl", "image_token_id": 151655,
  "video_token_id": 151656, "vision_start_token_id": 151652, "vision_end_token_id": 151653, "eos_token_id": 151645,
  "tie_word_embeddings": false,
  "text_config": {"hidden_act": "silu", "hidden_size": 3584, "intermediate_size": 18944, "model_type": "qwen2_5_vl_text",
    "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
    "rope_scaling": {"mrope_section": [16, 24, 24], "rope_type": "default", "type": "default"},
    "rope_theta": 1000000.0, "sliding_window": null, "video_token_id": null, "vocab_size": 152064},
  "vision_config": {"depth": 32, "fullatt_block_indexes": [7, 15, 23, 31], "hidden_act": "silu", "hidden_size": 1280,
    "in_channels": 3, "in_chans": 3, "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 3584,
    "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14, "temporal_patch_size": 2,
    "tokens_per_second": 2, "window_size": 112}})";

void expect_7b(const kvb::qwen::Config& c) {
  EXPECT_EQ(c.text.hidden_size, 3584);
  EXPECT_EQ(c.text.num_hidden_layers, 28);
  EXPECT_EQ(c.text.num_attention_heads, 28);
  EXPECT_EQ(c.text.num_key_value_heads, 4);
  EXPECT_EQ(c.text.head_dim(), 128);
  EXPECT_EQ(c.text.vocab_size, 152064);
  EXPECT_EQ(c.text.mrope_section, (std::vector<int64_t>{16, 24, 24}));
  EXPECT_DOUBLE_EQ(c.text.rope_theta, 1e6);
  EXPECT_FALSE(c.text.tie_word_embeddings);
  EXPECT_EQ(c.vision.fullatt_block_indexes, (std::vector<int64_t>{7, 15, 23, 31}));
  EXPECT_EQ(c.vision.window_size, 112);
  EXPECT_EQ(c.vision.head_dim(), 80);
  EXPECT_EQ(c.image_token_id, 151655);
  EXPECT_EQ(c.video_token_id, 151656);
}

TEST(QwenConfig, PublishedAndNestedLayouts) {
  expect_7b(kvb::qwen::parse_config(json::parse(kPublished7B), "published"));
  expect_7b(kvb::qwen::parse_config(json::parse(kNested7B), "nested"));
  json v5 = json::parse(kNested7B);  // transformers 5: rope_parameters
  v5["text_config"].erase("rope_scaling");
  v5["text_config"]["rope_parameters"] = {{"rope_type", "default"}, {"mrope_section", {16, 24, 24}}, {"rope_theta", 1e6}};
  expect_7b(kvb::qwen::parse_config(v5, "v5"));
}

TEST(QwenConfig, BadFieldsAreNamed) {
  json j = json::parse(kPublished7B);
  j["rope_scaling"]["mrope_section"] = {16, 24, 20};
  try {
    kvb::qwen::parse_config(j, "x/config.json");
    FAIL() << "no error";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("mrope_section"), std::string::npos) << e.what();
  }
  j = json::parse(kPublished7B);
  j["num_key_value_heads"] = "four";
  EXPECT_THROW(kvb::qwen::parse_config(j, "x/config.json"), kvb::Error);
}

TEST(QwenConfig, ValuesThatRunToNaNOrTruncateAreRejected) {
  auto error = [](const char* key, json value) {
    json j = json::parse(kPublished7B);
    j[key] = value;
    try {
      kvb::qwen::parse_config(j, "x/config.json");
    } catch (const kvb::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error("rms_norm_eps", 0), "x/config.json: field 'rms_norm_eps' must be positive, got 0");
  EXPECT_EQ(error("rms_norm_eps", -1e-6), "x/config.json: field 'rms_norm_eps' must be positive, got -1e-06");
  EXPECT_EQ(error("rope_theta", 0.0), "x/config.json: field 'rope_theta' must be positive, got 0");
  EXPECT_EQ(error("num_hidden_layers", 2.5), "x/config.json: field 'num_hidden_layers' must be an integer, got 2.5");
  EXPECT_EQ(error("num_key_value_heads", "four"),
            "x/config.json: field 'num_key_value_heads' must be an integer, got \"four\"");
  EXPECT_EQ(error("eos_token_id", json::array({1, 2.5})),
            "x/config.json: field 'eos_token_id' must be a list of integers, got [1,2.5]");
  EXPECT_EQ(error("tie_word_embeddings", 1), "x/config.json: field 'tie_word_embeddings' must be a boolean, got 1");
}

TEST(QwenTinyModel, HasThePublishedFileSet) {
  const std::string dir = kvb::test::tiny_qwen_dir();
  const json pub = json::parse(kPublished7B), tiny = kvb::read_json_file(dir + "/config.json");
  for (const auto& [k, v] : pub.items()) EXPECT_TRUE(tiny.contains(k)) << "config.json lacks " << k;
  for (const auto& [k, v] : pub["vision_config"].items()) EXPECT_TRUE(tiny["vision_config"].contains(k)) << k;
  EXPECT_EQ(tiny["vocab_size"], 151936);
  for (const char* f : {"preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json",
                        "generation_config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                        "model-00002-of-00002.safetensors"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  // As published: bfloat16 tensors, sharded, the index mapping every tensor, an untied lm_head.
  const json index = kvb::read_json_file(dir + "/model.safetensors.index.json");
  const auto st = kvb::SafeTensors::open(dir);
  EXPECT_EQ(index["weight_map"].size(), st.tensors().size());
  int64_t bytes = 0;
  for (const auto& info : st.tensors()) {
    EXPECT_EQ(info.dtype, "BF16") << info.name;
    int64_t n = 2;
    for (auto d : info.shape) n *= d;
    bytes += n;
  }
  EXPECT_EQ(index["metadata"]["total_size"].get<int64_t>(), bytes);
  EXPECT_TRUE(st.has("lm_head.weight"));
  EXPECT_EQ(tiny["torch_dtype"], "bfloat16");
  // Qwen2.5-VL's special tokens: 151643..151664, vision ones at their published ids.
  const json tok = kvb::read_json_file(dir + "/tokenizer.json");
  std::map<int64_t, std::string> added;
  for (const auto& a : tok["added_tokens"]) added[a["id"].get<int64_t>()] = a["content"].get<std::string>();
  EXPECT_EQ(added.begin()->first, 151643);
  EXPECT_EQ(added.rbegin()->first, 151664);
  EXPECT_EQ(added.size(), 22u);
  EXPECT_EQ(added[151652], "<|vision_start|>");
  EXPECT_EQ(added[151653], "<|vision_end|>");
  EXPECT_EQ(added[151655], "<|image_pad|>");
  EXPECT_EQ(added[151656], "<|video_pad|>");
  EXPECT_EQ(added[151645], "<|im_end|>");
}

// Copies the tiny checkpoint with its tensors passed through `edit`.
std::string edited_copy(const std::string& name,
                        const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit) {
  const std::string src = kvb::test::tiny_qwen_dir();
  const fs::path dst = kvb::test::scratch_dir() / name;
  fs::create_directories(dst);
  for (const auto& e : fs::directory_iterator(src))
    if (e.path().extension() != ".safetensors" && e.path().filename() != "model.safetensors.index.json")
      fs::copy_file(e.path(), dst / e.path().filename(), fs::copy_options::overwrite_existing);
  const auto st = kvb::SafeTensors::open(src);
  std::vector<std::pair<std::string, at::Tensor>> t;
  for (const auto& info : st.tensors()) t.emplace_back(info.name, st.get(info.name));
  edit(t);
  kvb::write_safetensors((dst / "model.safetensors").string(), t);
  return dst.string();
}

std::string load_error(const std::string& dir) {
  try {
    kvb::load_model(dir);
  } catch (const kvb::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(QwenLoad, MissingTensorIsNamed) {
  const auto dir = edited_copy("missing", [](auto& t) {
    t.erase(std::remove_if(t.begin(), t.end(), [](auto& p) { return p.first == "model.layers.1.mlp.up_proj.weight"; }),
            t.end());
  });
  const std::string msg = load_error(dir);
  EXPECT_NE(msg.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

// The tiny checkpoint with config.json and generation_config.json passed through `edit`.
std::string edited_configs(const std::string& name, const std::function<void(json&, json&)>& edit) {
  const auto dir = edited_copy(name, [](auto&) {});
  json cfg = kvb::read_json_file(dir + "/config.json"), gen = kvb::read_json_file(dir + "/generation_config.json");
  edit(cfg, gen);
  std::ofstream(dir + "/config.json") << cfg.dump();
  std::ofstream(dir + "/generation_config.json") << gen.dump();
  return dir;
}

TEST(QwenLoad, ConfigSizesAreCheckedAgainstTheCheckpointFirst) {
  // 2^40 layers: an error at once, not a list of 2^40 tensor names.
  auto msg = load_error(edited_configs("huge", [](json& c, json&) { c["num_hidden_layers"] = int64_t{1} << 40; }));
  EXPECT_NE(msg.find("config.json: num_hidden_layers is 1099511627776, but"), std::string::npos) << msg;
  msg = load_error(edited_configs("deep", [](json& c, json&) { c["vision_config"]["depth"] = 1000000000; }));
  EXPECT_NE(msg.find("vision_config.depth is 1000000000"), std::string::npos) << msg;
  msg = load_error(edited_configs("gen", [](json&, json& g) { g["eos_token_id"] = {"<|im_end|>"}; }));
  EXPECT_NE(msg.find("generation_config.json: field 'eos_token_id' must be an integer or a list of integers"),
            std::string::npos) << msg;
}

TEST(QwenLoad, UnusableDeviceOrChunkIsOneLine) {
  auto error = [](const nlohmann::json& device) {
    try {
      kvb::load_model(kvb::test::tiny_qwen_dir(), device.is_string() ? nlohmann::json{{"device", device}} : device);
    } catch (const kvb::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error("tpu:0"), "model options: device 'tpu:0' is not one of cpu, cuda, cuda:N");
  EXPECT_EQ(error("cuda:x"), "model options: device 'cuda:x' is not one of cpu, cuda, cuda:N");
  EXPECT_EQ(error("cuda:999"), at::hasCUDA()
                                   ? fmt::format("model options: device 'cuda:999': this machine has {} CUDA device(s)",
                                                 at::getNumGPUs())
                                   : "model options: device 'cuda:999': CUDA is not available in this build");
  // A negative chunk once fell through to the default.
  EXPECT_EQ(error({{"prefill_chunk", -5}}), "model options: prefill_chunk must be >= 0 (0 = one shot), got -5");
}

TEST(QwenLoad, TokenizerIdsBeyondTheEmbeddingAreErrors) {
  const auto dir = edited_configs("vocab", [](json&, json&) {});
  json tok = kvb::read_json_file(dir + "/tokenizer.json");
  tok["added_tokens"].push_back({{"id", 151936}, {"content", "<|past_the_end|>"}, {"special", true}});
  std::ofstream(dir + "/tokenizer.json") << tok.dump();
  const auto msg = load_error(dir);
  EXPECT_NE(msg.find("tokenizer.json: token ids reach 151936, but config.json's vocab_size is 151936"),
            std::string::npos) << msg;
}

TEST(QwenLoad, TensorsTheConfigDoesNotDescribeAreErrors) {
  // One layer fewer in config.json than in the file: the last layer's weights would be ignored.
  auto msg = load_error(edited_configs("fewer", [](json& c, json&) {
    c["num_hidden_layers"] = c["num_hidden_layers"].get<int64_t>() - 1;
    c["max_window_layers"] = c["num_hidden_layers"];
  }));
  EXPECT_NE(msg.find("num_hidden_layers is"), std::string::npos) << msg;
  const auto dir = edited_copy("extra", [](auto& t) { t.emplace_back("model.extra_norm.weight", at::ones({4})); });
  msg = load_error(dir);
  EXPECT_NE(msg.find("unexpected tensor 'model.extra_norm.weight'"), std::string::npos) << msg;
}

TEST(QwenLoad, MisShapedTensorIsNamed) {
  const auto dir = edited_copy("shape", [](auto& t) {
    for (auto& p : t)
      if (p.first == "visual.blocks.2.attn.qkv.bias") p.second = at::zeros({95});
  });
  const std::string msg = load_error(dir);
  EXPECT_NE(msg.find("visual.blocks.2.attn.qkv.bias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[95]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[96]"), std::string::npos) << msg;
}

TEST(QwenLoad, NewerTransformersNamesLoadTheSameModel) {
  const auto dir = edited_copy("renamed", [](auto& t) {
    for (auto& p : t) {
      if (p.first.rfind("model.", 0) == 0) p.first = "model.language_model." + p.first.substr(6);
      else if (p.first.rfind("visual.", 0) == 0) p.first = "model." + p.first;
    }
  });
  auto renamed = kvb::load_model(dir, {{"prefill_chunk", 0}});
  auto& original = kvb::test::tiny_qwen_model(0);
  const std::vector<kvb::Message> msgs{{"user", {kvb::image_segment({"", kvb::test::bmp_bytes(60, 45, 1), "img"}),
                                                 kvb::text_segment("hi")}}};
  const auto a = renamed->capture_prefill(msgs, {}), b = original.capture_prefill(msgs, {});
  for (size_t l = 0; l < a.layers.size(); ++l) EXPECT_TRUE(a.layers[l].keys.equal(b.layers[l].keys));
}

// Dense attention with a block-diagonal mask (the definition) vs the batched segments.
TEST(QwenVision, SegmentAttentionMatchesBlockDiagonalMask) {
  at::manual_seed(3);
  const std::vector<int64_t> cu{0, 64, 128, 150, 214, 215, 259};
  const int64_t n = cu.back(), heads = 3, d = 8;
  const at::Tensor q = at::randn({heads, n, d}), k = at::randn({heads, n, d}), v = at::randn({heads, n, d});
  at::Tensor seg = at::empty({n}, at::kLong);
  for (size_t i = 0; i + 1 < cu.size(); ++i) seg.narrow(0, cu[i], cu[i + 1] - cu[i]).fill_(static_cast<int64_t>(i));
  const at::Tensor same = seg.unsqueeze(0) == seg.unsqueeze(1);
  at::Tensor s = at::matmul(q, k.transpose(1, 2)) / std::sqrt(double(d));
  s = s.masked_fill(same.logical_not(), -INFINITY);
  const at::Tensor ref = at::matmul(at::softmax(s, -1), v).transpose(0, 1).reshape({n, heads * d});
  const at::Tensor ours = kvb::qwen::segment_attention(q, k, v, cu);
  EXPECT_TRUE(at::allclose(ours, ref, 1e-5, 1e-6)) << (ours - ref).abs().max().item<double>();
}

// Media never attend to each other in the tower: a batch equals its items run one by one.
TEST(QwenVision, BatchedMediaEqualSeparateRuns) {
  const std::string dir = kvb::test::tiny_qwen_dir();
  const auto cfg = kvb::qwen::parse_config(kvb::read_json_file(dir + "/config.json"), "tiny");
  const auto w = kvb::qwen::load_weights(dir, cfg, at::TensorOptions().dtype(at::kFloat));
  at::manual_seed(5);
  const std::vector<kvb::qwen::Grid> grids{{1, 22, 10}, {2, 4, 36}};
  const int64_t width = w.patch_w.size(1);
  const at::Tensor a = at::randn({22 * 10, width}), b = at::randn({2 * 4 * 36, width});
  const at::Tensor both = kvb::qwen::vision_forward(w, cfg.vision, at::cat({a, b}), grids);
  const at::Tensor sep = at::cat({kvb::qwen::vision_forward(w, cfg.vision, a, {grids[0]}),
                                  kvb::qwen::vision_forward(w, cfg.vision, b, {grids[1]})});
  ASSERT_EQ(both.sizes(), (std::vector<int64_t>{(220 + 288) / 4, 64}));
  EXPECT_TRUE(at::allclose(both, sep, 1e-4, 1e-5)) << (both - sep).abs().max().item<double>();
}

}  // namespace
