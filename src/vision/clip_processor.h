#pragma once
// The Hugging Face CLIPImageProcessor (LLaVA-1.5's preprocessor_config.json): resize the
// shortest edge (PIL bicubic), center crop, rescale by 1/255, normalize.
#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "vision/image.h"
#include "vision/pixel_normalization.h"

namespace kvb {

struct ClipProcessorConfig {
  int64_t shortest_edge = 224;
  int64_t crop_height = 224, crop_width = 224;
  PixelNormalization pixels;
  // Reads a preprocessor_config.json as published; `file` names it in errors. Unknown keys and
  // switched-off steps are errors.
  static ClipProcessorConfig from_json(const nlohmann::json& j, const std::string& file);
};

// transformers' get_resize_output_image_size(default_to_square=False): the short side becomes
// `shortest_edge`, the long side int(shortest_edge * long / short). Returns (height, width).
std::pair<int64_t, int64_t> shortest_edge_size(int64_t height, int64_t width, int64_t shortest_edge);

// One RGB image -> pixel_values [3, crop_height, crop_width] float32.
at::Tensor clip_preprocess(const Image& image, const ClipProcessorConfig& cfg);

}  // namespace kvb
