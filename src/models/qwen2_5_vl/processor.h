#pragma once
// The Hugging Face Qwen2VLImageProcessor (used by Qwen2-VL and Qwen2.5-VL): smart_resize,
// PIL bicubic resize, rescale by 1/255, normalize, temporal duplication and the patch
// flattening the vision tower's Conv3d patch embedding expects.
#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vision/image.h"
#include "vision/pixel_normalization.h"

namespace kvb {

struct QwenProcessorConfig {
  int64_t patch_size = 14;
  int64_t temporal_patch_size = 2;
  int64_t merge_size = 2;
  int64_t min_pixels = 56 * 56;
  int64_t max_pixels = 28 * 28 * 1280;
  PixelNormalization pixels;

  int64_t factor() const { return patch_size * merge_size; }  // 28 for Qwen2(.5)-VL
  // Reads a preprocessor_config.json as published (min_pixels/max_pixels win over `size`,
  // as in transformers); `file` names it in errors. Unknown keys are errors.
  static QwenProcessorConfig from_json(const nlohmann::json& j, const std::string& file);
};

struct VisionInput {
  at::Tensor pixel_values;  // [grid_t*grid_h*grid_w, C*temporal_patch*patch*patch] float32
  at::Tensor grid_thw;      // [1, 3] int64: (grid_t, grid_h, grid_w) in patches
  double second_per_grid_t = 0;  // videos: temporal_patch_size / sample_fps; 0 for images
  // Tokens this input becomes in the LLM: t*h*w / merge_size^2.
  int64_t num_tokens(int64_t merge_size) const;
};

// transformers' smart_resize (current version: sides never below `factor` when shrinking;
// Python round() = round half to even). Returns (height, width), multiples of `factor`, with
// min_pixels <= h*w <= max_pixels where possible. Throws kvb::Error for an aspect ratio > 200.
std::pair<int64_t, int64_t> smart_resize(int64_t height, int64_t width, int64_t factor,
                                         int64_t min_pixels, int64_t max_pixels);

// One image -> pixel_values/grid_thw (grid_t = 1: the frame is repeated temporal_patch_size
// times, as HF does for a single image).
VisionInput preprocess_image(const Image& image, const QwenProcessorConfig& cfg);

// Frames already at their final size (each [H, W, 3] uint8, all the same size, count a
// multiple of temporal_patch_size) -> rescale, normalize, flatten. The shared last step of
// images and videos.
VisionInput patchify_frames(const std::vector<at::Tensor>& frames_u8, const QwenProcessorConfig& cfg);

}  // namespace kvb
