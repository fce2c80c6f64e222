#pragma once
// LLaVA-1.5 tensors: the names and shapes a config implies (published layout, as in
// llava-hf/llava-1.5-7b-hf's model.safetensors.index.json), loading with shape checks from
// either naming convention, and the fused layouts the forward uses.
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/llava/config.h"
#include "models/tensor_spec.h"
#include "models/text_decoder.h"

namespace kvb {
class SafeTensors;
class WeightReader;
}

namespace kvb::llava {

// Every tensor of the checkpoint in a fixed order, the whole vision tower included (the
// published files hold its last layer and post_layernorm although the features never use them).
std::vector<TensorSpec> tensor_specs(const Config& c);

// The name transformers >= 4.52 saves for a published name (model.language_model.*, lm_head.*,
// model.vision_tower.*, model.multi_modal_projector.*).
std::string new_style_name(const std::string& published);

// Shared with LLaVA-OneVision. The CLIP / SigLIP encoder layers under `vm` (self_attn q/k/v in
// `qkv_order`, then out_proj, each with its bias; layer_norm1, mlp fc1/fc2, layer_norm2), the
// post_layernorm, then the 2-layer projector (linear_1 [H, F], linear_2 [H, H], biases when
// `projector_bias`).
void append_encoder_and_projector_specs(std::vector<TensorSpec>& s, const std::string& vm, int64_t layers, int64_t E,
                                        int64_t intermediate, const std::vector<const char*>& qkv_order, int64_t H,
                                        int64_t F, bool projector_bias);

// Checks every spec's tensor, under its published or new-style name, for presence and shape
// (errors name the tensor, the shape config.json implies and the file), and maps the published
// names of those the model runs (vision layers below `vision_layers_used`, no post_layernorm) to
// their names in the checkpoint.
std::map<std::string, std::string> locate_tensors(const SafeTensors& st, const std::vector<TensorSpec>& specs,
                                                  int64_t vision_layers_used);

// One CLIP encoder layer; SigLIP's (LLaVA-OneVision) has the same tensors.
struct ClipLayer {
  at::Tensor ln1_w, ln1_b, ln2_w, ln2_b;
  at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, out_w, out_b;
  at::Tensor fc1_w, fc1_b, fc2_w, fc2_b;
};

// `vm`encoder.layers.`layer`.* through `rd`.
ClipLayer read_encoder_layer(const WeightReader& rd, const std::string& vm, int64_t layer);

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
