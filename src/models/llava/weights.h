#pragma once
// LLaVA-1.5 tensors: the names and shapes a config implies (published layout, as in
// llava-hf/llava-1.5-7b-hf's model.safetensors.index.json), loading with shape checks from
// either naming convention (models/llava_layout.h), and the fused layouts the forward uses.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "models/llava/config.h"
#include "models/llava_layout.h"
#include "models/tensor_spec.h"
#include "models/text_decoder.h"
#include "models/vision_encoder.h"

namespace kvb::llava {

// Every tensor of the checkpoint in a fixed order, the whole vision tower included (the
// published files hold its last layer and post_layernorm although the features never use them).
std::vector<TensorSpec> tensor_specs(const Config& c);

struct Weights {
  TextDecoderWeights text;
  at::Tensor patch_w;  // [E, C, P, P] (CLIP's Conv2d has no bias)
  at::Tensor class_embedding, position_embedding, pre_ln_w, pre_ln_b;
  std::vector<EncoderLayer> clip_layers;  // only the ones the selected features need
  llava_layout::Projector projector;
};

// Loads from a folder (model.safetensors or a sharded index). A missing or mis-shaped tensor is
// an error naming it, its expected shape and the file.
Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts);

}  // namespace kvb::llava
