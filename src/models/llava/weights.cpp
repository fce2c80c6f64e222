#include "models/llava/weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cinttypes>
#include <cstdio>
#include <map>

#include "core/error.h"
#include "core/safetensors.h"
#include "models/weight_reader.h"

namespace kvb::llava {

void append_encoder_and_projector_specs(std::vector<TensorSpec>& s, const std::string& vm, int64_t layers, int64_t E,
                                        int64_t intermediate, const std::vector<const char*>& qkv_order, int64_t H,
                                        int64_t F, bool projector_bias) {
  using I = TensorSpec::Init;
  auto lin = [&](const std::string& n, int64_t out, int64_t in) { s.push_back({n, {out, in}, I::Linear, in}); };
  auto vec = [&](const std::string& n, int64_t size, I init) { s.push_back({n, {size}, init, 1}); };
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = fmt::format("{}encoder.layers.{}.", vm, l);
    std::vector<const char*> projs = qkv_order;
    projs.push_back("out_proj");
    for (const char* proj : projs) {
      lin(p + "self_attn." + proj + ".weight", E, E);
      vec(p + "self_attn." + proj + ".bias", E, I::Bias);
    }
    vec(p + "layer_norm1.weight", E, I::Norm);
    vec(p + "layer_norm1.bias", E, I::NormBias);
    lin(p + "mlp.fc1.weight", intermediate, E);
    vec(p + "mlp.fc1.bias", intermediate, I::Bias);
    lin(p + "mlp.fc2.weight", E, intermediate);
    vec(p + "mlp.fc2.bias", E, I::Bias);
    vec(p + "layer_norm2.weight", E, I::Norm);
    vec(p + "layer_norm2.bias", E, I::NormBias);
  }
  vec(vm + "post_layernorm.weight", E, I::Norm);
  vec(vm + "post_layernorm.bias", E, I::NormBias);

  lin("multi_modal_projector.linear_1.weight", H, F);
  if (projector_bias) vec("multi_modal_projector.linear_1.bias", H, I::Bias);
  lin("multi_modal_projector.linear_2.weight", H, H);
  if (projector_bias) vec("multi_modal_projector.linear_2.bias", H, I::Bias);
}

std::map<std::string, std::string> locate_tensors(const SafeTensors& st, const std::vector<TensorSpec>& specs,
                                                  int64_t vision_layers_used) {
  std::map<std::string, std::string> in_file;  // published name -> name in this checkpoint
  for (const auto& spec : specs) {
    const std::string alt = new_style_name(spec.name);
    const std::string found = st.has(spec.name) ? spec.name : st.has(alt) ? alt : "";
    KVB_CHECK(!found.empty(), "{}: tensor '{}' (or '{}') is missing (expected shape [{}] from config.json)", st.path(),
              spec.name, alt, fmt::join(spec.shape, ", "));
    const auto& info = st.info(found);
    KVB_CHECK(info.shape == spec.shape, "{}: tensor '{}' has shape [{}], expected [{}] from config.json",
              st.file_of(found), found, fmt::join(info.shape, ", "), fmt::join(spec.shape, ", "));
    // Vision layers past the deepest selected hidden state never run: checked, not loaded.
    int64_t layer = -1;
    if (std::sscanf(spec.name.c_str(), "vision_tower.vision_model.encoder.layers.%" SCNd64 ".", &layer) == 1 &&
        layer >= vision_layers_used)
      continue;
    if (spec.name.find("post_layernorm") != std::string::npos) continue;
    in_file[spec.name] = found;
  }
  return in_file;
}

ClipLayer read_encoder_layer(const WeightReader& rd, const std::string& vm, int64_t layer) {
  auto g = [&](const std::string& n) { return rd({fmt::format("{}encoder.layers.{}.{}", vm, layer, n)}); };
  ClipLayer x;
  x.ln1_w = g("layer_norm1.weight"), x.ln1_b = g("layer_norm1.bias");
  x.ln2_w = g("layer_norm2.weight"), x.ln2_b = g("layer_norm2.bias");
  x.q_w = g("self_attn.q_proj.weight"), x.q_b = g("self_attn.q_proj.bias");
  x.k_w = g("self_attn.k_proj.weight"), x.k_b = g("self_attn.k_proj.bias");
  x.v_w = g("self_attn.v_proj.weight"), x.v_b = g("self_attn.v_proj.bias");
  x.out_w = g("self_attn.out_proj.weight"), x.out_b = g("self_attn.out_proj.bias");
  x.fc1_w = g("mlp.fc1.weight"), x.fc1_b = g("mlp.fc1.bias");
  x.fc2_w = g("mlp.fc2.weight"), x.fc2_b = g("mlp.fc2.bias");
  return x;
}

std::vector<TensorSpec> tensor_specs(const Config& c) {
  using I = TensorSpec::Init;
  const auto& t = c.text;
  const auto& v = c.vision;
  const int64_t H = t.hidden_size;
  std::vector<TensorSpec> s;
  auto vec = [&](const std::string& n, int64_t size, I init) { s.push_back({n, {size}, init, 1}); };

  append_text_decoder_specs(s, text_decoder_spec(c), t.hidden_size, t.intermediate_size, t.vocab_size,
                            "language_model.model.", "language_model.lm_head.weight");

  const int64_t E = v.hidden_size, P = v.patch_size, N = v.patches_per_side() * v.patches_per_side() + 1;
  const std::string vm = "vision_tower.vision_model.";
  s.push_back({vm + "embeddings.class_embedding", {E}, I::Embedding, 1});
  s.push_back({vm + "embeddings.patch_embedding.weight", {E, v.num_channels, P, P}, I::Linear, v.num_channels * P * P});
  s.push_back({vm + "embeddings.position_embedding.weight", {N, E}, I::Embedding, 1});
  vec(vm + "pre_layrnorm.weight", E, I::Norm);
  vec(vm + "pre_layrnorm.bias", E, I::NormBias);
  append_encoder_and_projector_specs(s, vm, v.num_hidden_layers, E, v.intermediate_size, {"q_proj", "k_proj", "v_proj"},
                                     H, E * static_cast<int64_t>(c.vision_feature_layers.size()),
                                     c.multimodal_projector_bias);
  return s;
}

std::string new_style_name(const std::string& name) {
  auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  if (starts("language_model.model.")) return "model.language_model." + name.substr(21);
  if (starts("language_model.lm_head.")) return name.substr(15);
  return "model." + name;  // vision_tower.*, multi_modal_projector.*
}

Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts) {
  const SafeTensors st = SafeTensors::open(dir);
  const int64_t used = c.vision_layers_used();
  std::map<std::string, std::string> in_file = locate_tensors(st, tensor_specs(c), used);
  // Streamed into the final buffers, fused projections included (see WeightReader).
  const WeightReader rd(st, opts, std::move(in_file));
  auto t = [&](const std::string& name) { return rd({name}); };
  Weights w;
  w.text = read_text_decoder(rd, text_decoder_spec(c), "language_model.model.", "language_model.lm_head.weight");
  const std::string vm = "vision_tower.vision_model.";
  w.patch_w = t(vm + "embeddings.patch_embedding.weight");
  w.class_embedding = t(vm + "embeddings.class_embedding");
  w.position_embedding = t(vm + "embeddings.position_embedding.weight");
  w.pre_ln_w = t(vm + "pre_layrnorm.weight");
  w.pre_ln_b = t(vm + "pre_layrnorm.bias");
  for (int64_t l = 0; l < used; ++l) w.clip_layers.push_back(read_encoder_layer(rd, vm, l));
  w.proj1_w = t("multi_modal_projector.linear_1.weight");
  w.proj2_w = t("multi_modal_projector.linear_2.weight");
  if (c.multimodal_projector_bias) {
    w.proj1_b = t("multi_modal_projector.linear_1.bias");
    w.proj2_b = t("multi_modal_projector.linear_2.bias");
  }
  return w;
}

}  // namespace kvb::llava
