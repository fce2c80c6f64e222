// Written in transformers 4.50's operation order (CLIP eager attention: the query scaled before
// the product, softmax in the activation dtype) so that bfloat16 rounds where HF rounds.
#include "models/llava/vision_tower.h"

#include <cmath>

namespace kvb::llava {
namespace {

at::Tensor clip_layer(const EncoderLayer& L, const at::Tensor& x, const VisionConfig& v) {
  const int64_t n = x.size(0), s = x.size(1), E = v.hidden_size, heads = v.num_attention_heads, d = v.head_dim();
  auto split = [&](const at::Tensor& t) { return t.view({n, s, heads, d}).transpose(1, 2).reshape({n * heads, s, d}); };
  auto attend = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& val) {
    const at::Tensor probs = at::softmax(at::bmm(split(q * std::pow(static_cast<double>(d), -0.5)), split(k).transpose(1, 2)), -1);
    return at::bmm(probs, split(val)).view({n, heads, s, d}).transpose(1, 2).reshape({n, s, E});
  };
  auto quick_gelu = [](const at::Tensor& m) { return m * at::sigmoid(1.702 * m); };
  return encoder_layer(L, x, v.layer_norm_eps, attend, quick_gelu);
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
  // hidden_states[0] is the pre-LayerNorm output here.
  const std::vector<at::Tensor> hidden =
      hidden_states(x, w.clip_layers, [&](const EncoderLayer& L, const at::Tensor& h) { return clip_layer(L, h, v); });
  std::vector<at::Tensor> selected;
  for (int64_t l : c.vision_feature_layers) {
    at::Tensor h = hidden.at(hidden_state_index(l, v.num_hidden_layers));
    if (c.vision_feature_select_strategy == "default") h = h.narrow(1, 1, h.size(1) - 1);  // drop CLS
    selected.push_back(h);
  }
  return w.projector(selected.size() == 1 ? selected[0] : at::cat(selected, -1));
}

}  // namespace kvb::llava
