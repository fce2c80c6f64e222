#pragma once
// The SigLIP vision tower as LLaVA-OneVision uses it: patch embedding (conv with bias) plus
// learned positions, no CLS token, pre-norm encoder layers; the selected hidden states (never
// post_layernorm nor the pooling head), then the 2-layer GELU projector into the LLM's space.
#include <ATen/ATen.h>

#include <vector>

#include "models/llava_onevision/config.h"
#include "models/vision_encoder.h"

namespace kvb::llava_onevision {

struct SiglipWeights {
  at::Tensor patch_w, patch_b;  // [E, C, P, P], [E]
  at::Tensor position_embedding;  // [N, E]
  std::vector<EncoderLayer> layers;
};

// pixel_values [N, C, S, S] (any float dtype; cast to the weights' dtype as transformers does)
// -> the selected hidden states [N, tile_tokens, E * layers selected] in the weights' dtype.
at::Tensor siglip_features(const SiglipWeights& w, const Config& c, const at::Tensor& pixel_values);

}  // namespace kvb::llava_onevision
