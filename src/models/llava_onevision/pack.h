#pragma once
// How LLaVA-OneVision lays projected vision features out in the prompt (transformers 4.50's
// pack_image_features and get_video_features + the newline in forward).
#include <ATen/ATen.h>

#include "models/llava_onevision/config.h"
#include "vision/anyres_processor.h"

namespace kvb::llava_onevision {

// feats [1 + tiles, pps*pps, H] (base image first) -> [layout.tokens(), H]: the base image's
// features, then the tiles joined into one grid, unpadded, bilinearly pooled when larger than
// anyres_max_N tiles, each row followed by `newline` [H].
at::Tensor pack_image(const at::Tensor& feats, const AnyresLayout& layout, const at::Tensor& newline);

// feats [frames, pps*pps, H] -> [frames * ceil(pps/2)^2 + 1, H]: each frame bilinearly pooled to
// ceil(pps/2) per side, then one newline after the whole video.
at::Tensor pack_video(const at::Tensor& feats, int64_t pps, const at::Tensor& newline);

// Tokens one video frame becomes.
inline int64_t video_frame_tokens(const Config& c) {
  const int64_t s = (c.vision.patches_per_side() + 1) / 2;
  return s * s;
}

}  // namespace kvb::llava_onevision
