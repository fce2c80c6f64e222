#pragma once
// LLaVA-OneVision's image side as transformers 4.50 does it: LlavaOnevisionImageProcessor
// (anyres: the best grid pinpoint, an aspect-preserving PIL-bicubic resize, symmetric zero
// padding, image_size tiles after a squashed base image), the video processor (each frame
// squashed to image_size; models/llava_onevision/video_frames.h loads the frames), and the feature-grid geometry LlavaOnevisionProcessor and
// pack_image_features share (unpadding, the anyres_max_N pooling, one newline per row).
#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vision/image.h"
#include "vision/pixel_normalization.h"

namespace kvb {

struct AnyresProcessorConfig {
  int64_t tile = 384;  // size.height == size.width
  std::vector<std::pair<int64_t, int64_t>> pinpoints;  // (height, width); empty = the 6x6 grid of `tile`
  PixelNormalization pixels;
  // Reads a preprocessor_config.json (LlavaOnevisionImageProcessor); `file` names it in errors.
  // Unknown keys and switched-off steps are errors.
  static AnyresProcessorConfig from_json(const nlohmann::json& j, const std::string& file);
};

// transformers' select_best_resolution: the pinpoint keeping most of the image's pixels, then
// wasting fewest. Returns (height, width).
std::pair<int64_t, int64_t> select_best_resolution(int64_t height, int64_t width,
                                                   const std::vector<std::pair<int64_t, int64_t>>& pinpoints);

// Where an image's features land, in feature cells (patches_per_side per tile).
struct AnyresLayout {
  int64_t grid_h = 0, grid_w = 0;  // tiles of the best pinpoint
  int64_t rows = 0, cols = 0;      // feature grid after unpadding
  int64_t top = 0, left = 0;       // cells unpadding removes above / left
  bool pooled = false;             // bilinearly shrunk to at most ~max_tiles tiles of cells
  int64_t out_rows = 0, out_cols = 0;  // grid after the pooling (rows/cols when not pooled)
  int64_t base_tokens = 0;             // the squashed whole image: patches_per_side^2
  // base + one newline per output row: what the processor counts and the model packs.
  int64_t tokens() const { return base_tokens + out_rows * (out_cols + 1); }
};
AnyresLayout anyres_layout(int64_t height, int64_t width, const std::vector<std::pair<int64_t, int64_t>>& pinpoints,
                           int64_t tile, int64_t patches_per_side, int64_t max_tiles);

struct AnyresImage {
  at::Tensor pixel_values;  // [1 + tiles, 3, tile, tile] float32: the base image, then the tiles row-major
  int64_t height = 0, width = 0;  // the original size (image_sizes)
};
AnyresImage anyres_preprocess(const Image& image, const AnyresProcessorConfig& cfg);

// A video frame: resized to tile x tile (PIL bicubic), rescaled, normalized -> [3, tile, tile].
at::Tensor squash_preprocess(const Image& image, const AnyresProcessorConfig& cfg);

}  // namespace kvb
