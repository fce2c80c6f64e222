#pragma once
// LLaVA-OneVision tensors: the names and shapes a config implies (the published layout of
// llava-hf/llava-onevision-qwen2-7b-ov-hf: language_model.model.*, language_model.lm_head.weight,
// vision_tower.vision_model.*, multi_modal_projector.*, image_newline), loading with shape checks
// from either naming convention (models/llava_layout.h), and the fused layouts.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "models/llava_layout.h"
#include "models/llava_onevision/config.h"
#include "models/llava_onevision/siglip_tower.h"
#include "models/tensor_spec.h"
#include "models/text_decoder.h"

namespace kvb::llava_onevision {

// Every tensor of the checkpoint in a fixed order, the whole SigLIP tower included (its
// post_layernorm is published although the features never use it).
std::vector<TensorSpec> tensor_specs(const Config& c);

struct Weights {
  TextDecoderWeights text;                // Qwen2: q/k/v with bias
  SiglipWeights tower;                    // only the layers the selected features need
  llava_layout::Projector projector;
  at::Tensor image_newline;               // [H]
};

// Loads from a folder (model.safetensors or a sharded index). A missing or mis-shaped tensor is
// an error naming it, its expected shape and the file.
Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts);

}  // namespace kvb::llava_onevision
