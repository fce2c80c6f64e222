#pragma once
// The CLIP vision tower as LLaVA uses it (hidden states of selected encoder layers, never the
// pooled output) and the 2-layer GELU projector into the LLM's embedding space.
#include <ATen/ATen.h>

#include "models/llava/config.h"
#include "models/llava/weights.h"

namespace kvb::llava {

// pixel_values [N, C, S, S] (any float dtype; cast to the weights' dtype as transformers does)
// -> [N, image_tokens, text hidden] in the weights' dtype.
at::Tensor image_features(const Weights& w, const Config& c, const at::Tensor& pixel_values);

}  // namespace kvb::llava
