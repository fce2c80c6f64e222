#pragma once
// The pre-norm ViT encoder layer CLIP (LLaVA-1.5) and SigLIP (LLaVA-OneVision) share: the same
// tensors under the same names, and the same residual and MLP structure. The attention stays each
// tower's own: the two place the scale and the softmax's dtype differently, and bfloat16 parity
// with transformers depends on that order.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/tensor_spec.h"

namespace kvb {

class WeightReader;

struct EncoderLayer {
  at::Tensor ln1_w, ln1_b, ln2_w, ln2_b;
  at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, out_w, out_b;
  at::Tensor fc1_w, fc1_b, fc2_w, fc2_b;
};

// The encoder layers under `vm` (self_attn q/k/v in `qkv_order`, the published order, then
// out_proj, each with its bias; layer_norm1, mlp fc1/fc2, layer_norm2), then the post_layernorm.
void append_encoder_specs(std::vector<TensorSpec>& s, const std::string& vm, int64_t layers, int64_t E,
                          int64_t intermediate, const std::vector<const char*>& qkv_order);

// `vm`encoder.layers.`layer`.* through `rd`.
EncoderLayer read_encoder_layer(const WeightReader& rd, const std::string& vm, int64_t layer);

// x + out_proj(attend(q, k, v of layer_norm1(x))), then + fc2(act(fc1(layer_norm2(.)))). `attend`
// takes the projected q, k, v [N, S, E] and returns the attention output [N, S, E].
template <class Attend, class Act>
at::Tensor encoder_layer(const EncoderLayer& L, const at::Tensor& x, double eps, Attend&& attend, Act&& act) {
  const int64_t E = x.size(2);
  const at::Tensor h = at::layer_norm(x, {E}, L.ln1_w, L.ln1_b, eps);
  const at::Tensor q = at::linear(h, L.q_w, L.q_b), k = at::linear(h, L.k_w, L.k_b), v = at::linear(h, L.v_w, L.v_b);
  const at::Tensor r = x + at::linear(attend(q, k, v), L.out_w, L.out_b);
  const at::Tensor m = at::linear(at::layer_norm(r, {E}, L.ln2_w, L.ln2_b, eps), L.fc1_w, L.fc1_b);
  return r + at::linear(act(m), L.fc2_w, L.fc2_b);
}

// The tower's hidden states as transformers returns them: [0] = `x` (the embeddings), [i] = the
// output of layer i, for as many layers as `layers` holds.
template <class Layer>
std::vector<at::Tensor> hidden_states(at::Tensor x, const std::vector<EncoderLayer>& layers, Layer&& layer) {
  std::vector<at::Tensor> hidden{x};
  for (const auto& L : layers) hidden.push_back(x = layer(L, x));
  return hidden;
}

}  // namespace kvb
