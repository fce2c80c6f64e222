#include "models/llava_onevision/weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cinttypes>
#include <cstdio>
#include <map>

#include "core/error.h"
#include "core/safetensors.h"
#include "models/weight_reader.h"

namespace kvb::llava_onevision {

std::vector<TensorSpec> tensor_specs(const Config& c) {
  using I = TensorSpec::Init;
  const auto& t = c.text;
  const auto& v = c.vision;
  const int64_t H = t.hidden_size, D = t.head_dim, Hq = t.num_attention_heads, Hkv = t.num_key_value_heads;
  std::vector<TensorSpec> s;
  auto lin = [&](const std::string& n, int64_t out, int64_t in) { s.push_back({n, {out, in}, I::Linear, in}); };
  auto vec = [&](const std::string& n, int64_t size, I init) { s.push_back({n, {size}, init, 1}); };

  s.push_back({"language_model.model.embed_tokens.weight", {t.vocab_size, H}, I::Embedding, H});
  for (int64_t l = 0; l < t.num_hidden_layers; ++l) {
    const std::string p = fmt::format("language_model.model.layers.{}.", l);
    lin(p + "self_attn.q_proj.weight", Hq * D, H);
    vec(p + "self_attn.q_proj.bias", Hq * D, I::Bias);
    lin(p + "self_attn.k_proj.weight", Hkv * D, H);
    vec(p + "self_attn.k_proj.bias", Hkv * D, I::Bias);
    lin(p + "self_attn.v_proj.weight", Hkv * D, H);
    vec(p + "self_attn.v_proj.bias", Hkv * D, I::Bias);
    lin(p + "self_attn.o_proj.weight", H, Hq * D);
    lin(p + "mlp.gate_proj.weight", t.intermediate_size, H);
    lin(p + "mlp.up_proj.weight", t.intermediate_size, H);
    lin(p + "mlp.down_proj.weight", H, t.intermediate_size);
    vec(p + "input_layernorm.weight", H, I::Norm);
    vec(p + "post_attention_layernorm.weight", H, I::Norm);
  }
  vec("language_model.model.norm.weight", H, I::Norm);
  if (!t.tie_word_embeddings) s.push_back({"language_model.lm_head.weight", {t.vocab_size, H}, I::Embedding, H});

  const int64_t E = v.hidden_size, P = v.patch_size, N = c.tile_tokens();
  const std::string vm = "vision_tower.vision_model.";
  s.push_back({vm + "embeddings.patch_embedding.weight", {E, v.num_channels, P, P}, I::Linear, v.num_channels * P * P});
  vec(vm + "embeddings.patch_embedding.bias", E, I::Bias);
  s.push_back({vm + "embeddings.position_embedding.weight", {N, E}, I::Embedding, 1});
  for (int64_t l = 0; l < v.num_hidden_layers; ++l) {
    const std::string p = fmt::format("{}encoder.layers.{}.", vm, l);
    for (const char* proj : {"k_proj", "v_proj", "q_proj", "out_proj"}) {
      lin(p + "self_attn." + proj + ".weight", E, E);
      vec(p + "self_attn." + proj + ".bias", E, I::Bias);
    }
    vec(p + "layer_norm1.weight", E, I::Norm);
    vec(p + "layer_norm1.bias", E, I::NormBias);
    lin(p + "mlp.fc1.weight", v.intermediate_size, E);
    vec(p + "mlp.fc1.bias", v.intermediate_size, I::Bias);
    lin(p + "mlp.fc2.weight", E, v.intermediate_size);
    vec(p + "mlp.fc2.bias", E, I::Bias);
    vec(p + "layer_norm2.weight", E, I::Norm);
    vec(p + "layer_norm2.bias", E, I::NormBias);
  }
  vec(vm + "post_layernorm.weight", E, I::Norm);
  vec(vm + "post_layernorm.bias", E, I::NormBias);

  const int64_t F = E * static_cast<int64_t>(c.vision_feature_layers.size());
  lin("multi_modal_projector.linear_1.weight", H, F);
  if (c.multimodal_projector_bias) vec("multi_modal_projector.linear_1.bias", H, I::Bias);
  lin("multi_modal_projector.linear_2.weight", H, H);
  if (c.multimodal_projector_bias) vec("multi_modal_projector.linear_2.bias", H, I::Bias);
  // Random init as HF's: N(0, 1/hidden), the Linear scale with fan_in = hidden.
  s.push_back({"image_newline", {H}, I::Linear, H});
  return s;
}

Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts) {
  const SafeTensors st = SafeTensors::open(dir);
  const int64_t used = c.vision_layers_used();
  std::map<std::string, std::string> in_file;  // published name -> name in this checkpoint
  for (const auto& spec : tensor_specs(c)) {
    const std::string alt = llava::new_style_name(spec.name);
    const std::string found = st.has(spec.name) ? spec.name : st.has(alt) ? alt : "";
    KVB_CHECK(!found.empty(), "{}: tensor '{}' (or '{}') is missing (expected shape [{}] from config.json)", st.path(),
              spec.name, alt, fmt::join(spec.shape, ", "));
    const auto& info = st.info(found);
    KVB_CHECK(info.shape == spec.shape, "{}: tensor '{}' has shape [{}], expected [{}] from config.json",
              st.file_of(found), found, fmt::join(info.shape, ", "), fmt::join(spec.shape, ", "));
    // Vision layers past the deepest selected hidden state never run: checked, not loaded.
    int64_t layer = -1;
    if (std::sscanf(spec.name.c_str(), "vision_tower.vision_model.encoder.layers.%" SCNd64 ".", &layer) == 1 && layer >= used)
      continue;
    if (spec.name.find("post_layernorm") != std::string::npos) continue;
    in_file[spec.name] = found;
  }
  const WeightReader rd(st, opts, std::move(in_file));
  auto t = [&](const std::string& name) { return rd({name}); };
  Weights w;
  w.embed = t("language_model.model.embed_tokens.weight");
  w.lm_head = c.text.tie_word_embeddings ? w.embed : t("language_model.lm_head.weight");
  w.final_norm = t("language_model.model.norm.weight");
  for (int64_t l = 0; l < c.text.num_hidden_layers; ++l) {
    auto name = [&](const std::string& n) { return fmt::format("language_model.model.layers.{}.{}", l, n); };
    DecoderLayer d;
    d.qkv_w = rd({name("self_attn.q_proj.weight"), name("self_attn.k_proj.weight"), name("self_attn.v_proj.weight")});
    d.qkv_b = rd({name("self_attn.q_proj.bias"), name("self_attn.k_proj.bias"), name("self_attn.v_proj.bias")});
    d.o_w = t(name("self_attn.o_proj.weight"));
    d.gate_up_w = rd({name("mlp.gate_proj.weight"), name("mlp.up_proj.weight")});
    d.down_w = t(name("mlp.down_proj.weight"));
    d.input_norm = t(name("input_layernorm.weight"));
    d.post_norm = t(name("post_attention_layernorm.weight"));
    w.layers.push_back(std::move(d));
  }
  const std::string vm = "vision_tower.vision_model.";
  w.tower.patch_w = t(vm + "embeddings.patch_embedding.weight");
  w.tower.patch_b = t(vm + "embeddings.patch_embedding.bias");
  w.tower.position_embedding = t(vm + "embeddings.position_embedding.weight");
  for (int64_t l = 0; l < used; ++l) {
    auto g = [&](const std::string& n) { return t(fmt::format("{}encoder.layers.{}.{}", vm, l, n)); };
    SiglipLayer x;
    x.ln1_w = g("layer_norm1.weight"), x.ln1_b = g("layer_norm1.bias");
    x.ln2_w = g("layer_norm2.weight"), x.ln2_b = g("layer_norm2.bias");
    x.q_w = g("self_attn.q_proj.weight"), x.q_b = g("self_attn.q_proj.bias");
    x.k_w = g("self_attn.k_proj.weight"), x.k_b = g("self_attn.k_proj.bias");
    x.v_w = g("self_attn.v_proj.weight"), x.v_b = g("self_attn.v_proj.bias");
    x.out_w = g("self_attn.out_proj.weight"), x.out_b = g("self_attn.out_proj.bias");
    x.fc1_w = g("mlp.fc1.weight"), x.fc1_b = g("mlp.fc1.bias");
    x.fc2_w = g("mlp.fc2.weight"), x.fc2_b = g("mlp.fc2.bias");
    w.tower.layers.push_back(std::move(x));
  }
  w.proj1_w = t("multi_modal_projector.linear_1.weight");
  w.proj2_w = t("multi_modal_projector.linear_2.weight");
  if (c.multimodal_projector_bias) {
    w.proj1_b = t("multi_modal_projector.linear_1.bias");
    w.proj2_b = t("multi_modal_projector.linear_2.bias");
  }
  w.image_newline = t("image_newline");
  return w;
}

}  // namespace kvb::llava_onevision
