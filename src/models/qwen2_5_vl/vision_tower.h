#pragma once
// The Qwen2.5-VL vision tower: patch embedding (Conv3d as a matmul), 2-D rotary, window
// attention over the window permutation with full-attention blocks, SwiGLU MLP, patch merger.
#include <ATen/ATen.h>

#include <vector>

#include "models/qwen2_5_vl/config.h"
#include "models/qwen2_5_vl/positions.h"
#include "models/qwen2_5_vl/weights.h"

namespace kvb::qwen {

// pixel_values [N, C*Tp*P*P] for the media described by `grids` (concatenated in order) ->
// [N / merge^2, out_hidden_size] features in the original (unpermuted) order.
at::Tensor vision_forward(const Weights& w, const VisionConfig& c, const at::Tensor& pixel_values,
                          const std::vector<Grid>& grids);

// Attention within each segment [cu[i], cu[i+1]) of q, k, v [heads, N, d]; segments of equal
// length are batched. Returns [N, heads*d].
at::Tensor segment_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const std::vector<int64_t>& cu);

}  // namespace kvb::qwen
