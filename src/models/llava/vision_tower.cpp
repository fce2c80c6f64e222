// Written in transformers 4.50's operation order (CLIP eager attention: the query scaled before
// the product, softmax in the activation dtype) so that bfloat16 rounds where HF rounds.
#include "models/llava/vision_tower.h"

#include <cmath>

namespace kvb::llava {
namespace {

at::Tensor clip_layer(const ClipLayer& L, const at::Tensor& x, const VisionConfig& v) {
  const int64_t n = x.size(0), s = x.size(1), E = v.hidden_size, heads = v.num_attention_heads, d = v.head_dim();
  const double eps = v.layer_norm_eps;
  const at::Tensor h = at::layer_norm(x, {E}, L.ln1_w, L.ln1_b, eps);
  auto split = [&](const at::Tensor& t) { return t.view({n, s, heads, d}).transpose(1, 2).reshape({n * heads, s, d}); };
  const at::Tensor q = split(at::linear(h, L.q_w, L.q_b) * std::pow(static_cast<double>(d), -0.5));
  const at::Tensor k = split(at::linear(h, L.k_w, L.k_b)), val = split(at::linear(h, L.v_w, L.v_b));
  const at::Tensor probs = at::softmax(at::bmm(q, k.transpose(1, 2)), -1);
  const at::Tensor attn = at::bmm(probs, val).view({n, heads, s, d}).transpose(1, 2).reshape({n, s, E});
  const at::Tensor r = x + at::linear(attn, L.out_w, L.out_b);
  const at::Tensor m = at::linear(at::layer_norm(r, {E}, L.ln2_w, L.ln2_b, eps), L.fc1_w, L.fc1_b);
  return r + at::linear(m * at::sigmoid(1.702 * m), L.fc2_w, L.fc2_b);  // quick_gelu
}

}  // namespace

at::Tensor image_features(const Weights& w, const Config& c, const at::Tensor& pixel_values) {
  const auto& v = c.vision;
  const int64_t n = pixel_values.size(0), E = v.hidden_size;
  const at::Tensor patches = at::conv2d(pixel_values.to(w.patch_w.scalar_type()), w.patch_w, {}, v.patch_size)
                                 .flatten(2)
                                 .transpose(1, 2);  // [N, P*P, E]
  at::Tensor x = at::cat({w.class_embedding.view({1, 1, E}).expand({n, 1, E}), patches}, 1) + w.position_embedding;
  x = at::layer_norm(x, {E}, w.pre_ln_w, w.pre_ln_b, v.layer_norm_eps);
  // hidden_states[0] is the pre-LayerNorm output, hidden_states[i] the output of layer i.
  const int64_t states = v.num_hidden_layers + 1;
  std::vector<at::Tensor> hidden{x};
  for (const auto& L : w.clip_layers) hidden.push_back(x = clip_layer(L, x, v));
  std::vector<at::Tensor> selected;
  for (int64_t l : c.vision_feature_layers) {
    at::Tensor h = hidden.at(l < 0 ? states + l : l);
    if (c.vision_feature_select_strategy == "default") h = h.narrow(1, 1, h.size(1) - 1);  // drop CLS
    selected.push_back(h);
  }
  const at::Tensor f = selected.size() == 1 ? selected[0] : at::cat(selected, -1);
  return at::linear(at::gelu(at::linear(f, w.proj1_w, w.proj1_b)), w.proj2_w, w.proj2_b);
}

}  // namespace kvb::llava
