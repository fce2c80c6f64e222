// Written in transformers 4.50's operation order (SiglipAttention eager: the scale applied after
// q k^T, softmax in float32 cast back to the activation dtype; gelu with the tanh approximation)
// so that bfloat16 rounds where HF rounds.
#include "models/llava_onevision/siglip_tower.h"

#include <cmath>

namespace kvb::llava_onevision {
namespace {

at::Tensor siglip_layer(const EncoderLayer& L, const at::Tensor& x, const VisionConfig& v) {
  const int64_t n = x.size(0), s = x.size(1), E = v.hidden_size, heads = v.num_attention_heads, d = v.head_dim();
  auto split = [&](const at::Tensor& t) { return t.view({n, s, heads, d}).transpose(1, 2); };
  auto attend = [&](const at::Tensor& q_in, const at::Tensor& k, const at::Tensor& val) {
    const at::Tensor q = split(q_in);
    const at::Tensor scores = at::matmul(q, split(k).transpose(2, 3)) * std::pow(static_cast<double>(d), -0.5);
    const at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
    return at::matmul(probs, split(val)).transpose(1, 2).contiguous().reshape({n, s, E});
  };
  auto gelu_tanh = [](const at::Tensor& m) { return at::gelu(m, "tanh"); };
  return encoder_layer(L, x, v.layer_norm_eps, attend, gelu_tanh);
}

}  // namespace

at::Tensor siglip_features(const SiglipWeights& w, const Config& c, const at::Tensor& pixel_values) {
  const auto& v = c.vision;
  at::Tensor x = at::conv2d(pixel_values.to(w.patch_w.scalar_type()), w.patch_w, w.patch_b, v.patch_size)
                     .flatten(2)
                     .transpose(1, 2);  // [N, P*P, E]
  x = x + w.position_embedding.unsqueeze(0);
  const std::vector<at::Tensor> hidden =
      hidden_states(x, w.layers, [&](const EncoderLayer& L, const at::Tensor& h) { return siglip_layer(L, h, v); });
  std::vector<at::Tensor> selected;
  for (int64_t l : c.vision_feature_layers) selected.push_back(hidden.at(hidden_state_index(l, v.num_hidden_layers)));
  return selected.size() == 1 ? selected[0] : at::cat(selected, -1);
}

}  // namespace kvb::llava_onevision
