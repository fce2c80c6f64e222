// Written in transformers 4.50's operation order (SiglipAttention eager: the scale applied after
// q k^T, softmax in float32 cast back to the activation dtype; gelu with the tanh approximation)
// so that bfloat16 rounds where HF rounds.
#include "models/llava_onevision/siglip_tower.h"

#include <cmath>

namespace kvb::llava_onevision {
namespace {

at::Tensor siglip_layer(const SiglipLayer& L, const at::Tensor& x, const VisionConfig& v) {
  const int64_t n = x.size(0), s = x.size(1), E = v.hidden_size, heads = v.num_attention_heads, d = v.head_dim();
  const double eps = v.layer_norm_eps;
  const at::Tensor h = at::layer_norm(x, {E}, L.ln1_w, L.ln1_b, eps);
  auto split = [&](const at::Tensor& t) { return t.view({n, s, heads, d}).transpose(1, 2); };
  const at::Tensor q = split(at::linear(h, L.q_w, L.q_b)), k = split(at::linear(h, L.k_w, L.k_b));
  const at::Tensor val = split(at::linear(h, L.v_w, L.v_b));
  const at::Tensor scores = at::matmul(q, k.transpose(2, 3)) * std::pow(static_cast<double>(d), -0.5);
  const at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  const at::Tensor attn = at::matmul(probs, val).transpose(1, 2).contiguous().reshape({n, s, E});
  const at::Tensor r = x + at::linear(attn, L.out_w, L.out_b);
  const at::Tensor m = at::linear(at::layer_norm(r, {E}, L.ln2_w, L.ln2_b, eps), L.fc1_w, L.fc1_b);
  return r + at::linear(at::gelu(m, "tanh"), L.fc2_w, L.fc2_b);
}

}  // namespace

at::Tensor siglip_features(const SiglipWeights& w, const Config& c, const at::Tensor& pixel_values) {
  const auto& v = c.vision;
  at::Tensor x = at::conv2d(pixel_values.to(w.patch_w.scalar_type()), w.patch_w, w.patch_b, v.patch_size)
                     .flatten(2)
                     .transpose(1, 2);  // [N, P*P, E]
  x = x + w.position_embedding.unsqueeze(0);
  // hidden_states[0] is the embedding output, hidden_states[i] the output of layer i.
  const int64_t states = v.num_hidden_layers + 1;
  std::vector<at::Tensor> hidden{x};
  for (const auto& L : w.layers) hidden.push_back(x = siglip_layer(L, x, v));
  std::vector<at::Tensor> selected;
  for (int64_t l : c.vision_feature_layers) selected.push_back(hidden.at(l < 0 ? states + l : l));
  return selected.size() == 1 ? selected[0] : at::cat(selected, -1);
}

}  // namespace kvb::llava_onevision
