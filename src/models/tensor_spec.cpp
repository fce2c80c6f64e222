#include "models/tensor_spec.h"

#include <fmt/format.h>

#include <cmath>
#include <initializer_list>

#include "models/random_checkpoint.h"

namespace kvb {

void append_text_decoder_specs(std::vector<TensorSpec>& s, const TextDecoderSpec& spec, int64_t hidden_size,
                               int64_t intermediate_size, int64_t vocab_size, const std::string& prefix,
                               const std::string& lm_head) {
  using I = TensorSpec::Init;
  const int64_t H = hidden_size, D = spec.head_dim, Hq = spec.q_heads, Hkv = spec.kv_heads, F = intermediate_size;
  auto lin = [&](const std::string& n, int64_t out, int64_t in) { s.push_back({n, {out, in}, I::Linear, in}); };
  auto vec = [&](const std::string& n, int64_t size, I init) { s.push_back({n, {size}, init, 1}); };
  s.push_back({prefix + "embed_tokens.weight", {vocab_size, H}, I::Embedding, H});
  for (int64_t l = 0; l < spec.layers; ++l) {
    const std::string p = fmt::format("{}layers.{}.", prefix, l);
    const std::initializer_list<std::pair<const char*, int64_t>> qkv = {
        {"q_proj", Hq * D}, {"k_proj", Hkv * D}, {"v_proj", Hkv * D}};
    for (const auto& [proj, out] : qkv) {
      lin(p + "self_attn." + proj + ".weight", out, H);
      if (spec.qkv_bias) vec(p + "self_attn." + proj + ".bias", out, I::Bias);
    }
    lin(p + "self_attn.o_proj.weight", H, Hq * D);
    lin(p + "mlp.gate_proj.weight", F, H);
    lin(p + "mlp.up_proj.weight", F, H);
    lin(p + "mlp.down_proj.weight", H, F);
    vec(p + "input_layernorm.weight", H, I::Norm);
    vec(p + "post_attention_layernorm.weight", H, I::Norm);
  }
  vec(prefix + "norm.weight", H, I::Norm);
  if (!spec.tie_word_embeddings) s.push_back({lm_head, {vocab_size, H}, I::Embedding, H});
}

std::vector<std::pair<std::string, at::Tensor>> random_tensors(const std::vector<TensorSpec>& specs, uint64_t seed,
                                                               at::ScalarType dtype) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  uint64_t stream = 0;
  for (const auto& s : specs) {
    at::Tensor x = seeded_normal(s.shape, seed, stream++);
    switch (s.init) {
      case TensorSpec::Init::Linear: x.mul_(1.0 / std::sqrt(static_cast<double>(s.fan_in))); break;
      case TensorSpec::Init::Bias: case TensorSpec::Init::NormBias: x.mul_(0.1); break;
      case TensorSpec::Init::Norm: x.mul_(0.1).add_(1.0); break;
      case TensorSpec::Init::Embedding: x.mul_(0.02); break;
    }
    tensors.emplace_back(s.name, x.to(dtype));
  }
  return tensors;
}

}  // namespace kvb
