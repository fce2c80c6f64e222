#pragma once
// LLaVA-1.5 tensors: the names and shapes a config implies (published layout, as in
// llava-hf/llava-1.5-7b-hf's model.safetensors.index.json), loading with shape checks from
// either naming convention, and the fused layouts the forward uses.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "models/llava/config.h"
#include "models/text_decoder.h"

namespace kvb::llava {

struct TensorSpec {
  std::string name;  // published layout: language_model.model.*, vision_tower.*, multi_modal_projector.*
  std::vector<int64_t> shape;
  enum class Init { Linear, Bias, Norm, NormBias, Embedding } init = Init::Linear;
  int64_t fan_in = 1;  // for Linear: the input size (scale of the random init)
};

// Every tensor of the checkpoint in a fixed order, the whole vision tower included (the
// published files hold its last layer and post_layernorm although the features never use them).
std::vector<TensorSpec> tensor_specs(const Config& c);

// The name transformers >= 4.52 saves for a published name (model.language_model.*, lm_head.*,
// model.vision_tower.*, model.multi_modal_projector.*).
std::string new_style_name(const std::string& published);

struct ClipLayer {
  at::Tensor ln1_w, ln1_b, ln2_w, ln2_b;
  at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, out_w, out_b;
  at::Tensor fc1_w, fc1_b, fc2_w, fc2_b;
};

struct Weights {
  TextDecoderWeights text;
  at::Tensor patch_w;  // [E, C, P, P] (CLIP's Conv2d has no bias)
  at::Tensor class_embedding, position_embedding, pre_ln_w, pre_ln_b;
  std::vector<ClipLayer> clip_layers;  // only the ones the selected features need
  at::Tensor proj1_w, proj1_b, proj2_w, proj2_b;  // biases undefined without multimodal_projector_bias
};

// Loads from a folder (model.safetensors or a sharded index). A missing or mis-shaped tensor is
// an error naming it, its expected shape and the file.
Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts);

}  // namespace kvb::llava
