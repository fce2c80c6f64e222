#include "models/vision_encoder.h"

#include <fmt/format.h>

#include "models/weight_reader.h"

namespace kvb {

void append_encoder_specs(std::vector<TensorSpec>& s, const std::string& vm, int64_t layers, int64_t E,
                          int64_t intermediate, const std::vector<const char*>& qkv_order) {
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
}

EncoderLayer read_encoder_layer(const WeightReader& rd, const std::string& vm, int64_t layer) {
  auto g = [&](const std::string& n) { return rd({fmt::format("{}encoder.layers.{}.{}", vm, layer, n)}); };
  EncoderLayer x;
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

}  // namespace kvb
