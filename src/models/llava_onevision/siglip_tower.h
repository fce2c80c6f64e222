#pragma once
// The SigLIP vision tower as LLaVA-OneVision uses it: patch embedding (conv with bias) plus
// learned positions, no CLS token, pre-norm encoder layers; the selected hidden states (never
// post_layernorm nor the pooling head), then the 2-layer GELU projector into the LLM's space.
#include <ATen/ATen.h>

#include <vector>

#include "models/llava/weights.h"
#include "models/llava_onevision/config.h"

namespace kvb::llava_onevision {

using SiglipLayer = llava::ClipLayer;  // the same tensors as CLIP's

struct SiglipWeights {
  at::Tensor patch_w, patch_b;  // [E, C, P, P], [E]
  at::Tensor position_embedding;  // [N, E]
  std::vector<SiglipLayer> layers;
};

// pixel_values [N, C, S, S] (any float dtype; cast to the weights' dtype as transformers does)
// -> the selected hidden states [N, tile_tokens, E * layers selected] in the weights' dtype.
at::Tensor siglip_features(const SiglipWeights& w, const Config& c, const at::Tensor& pixel_values);

}  // namespace kvb::llava_onevision
