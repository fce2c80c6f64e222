#pragma once
// Index bookkeeping of Qwen2.5-VL, kept free of weights so it can be tested on its own:
// the 3-D M-RoPE positions of a prompt (transformers' get_rope_index), the 2-D rotary
// positions of vision patches (rot_pos_emb) and the window permutation of the vision tower
// (get_window_index).
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace kvb::qwen {

struct Grid {  // grid_thw of one image or video, in patches
  int64_t t = 1, h = 0, w = 0;
};

struct RopeTokens {
  int64_t image_token_id, video_token_id;
  int64_t spatial_merge_size;
  double tokens_per_second;
};

struct RopeIndex {
  at::Tensor positions;       // [3, T] int64 (temporal, height, width)
  int64_t next_position = 0;  // max position + 1: decoding continues here (rope delta + T)
};

// `ids` holds expanded media pads: each image/video is one run of grid.t*h*w/merge^2 pad ids.
// second_per_grid: one per video (seconds covered by one temporal grid step).
RopeIndex rope_index(const std::vector<int64_t>& ids, const std::vector<Grid>& images,
                     const std::vector<Grid>& videos, const std::vector<double>& second_per_grid,
                     const RopeTokens& tokens);

// [N, 2] (row, column) of each patch in the order the processor emits patches (merge blocks).
at::Tensor vision_patch_positions(const std::vector<Grid>& grids, int64_t merge);

struct WindowIndex {
  at::Tensor index;                    // [N / merge^2] permutation of merged units
  std::vector<int64_t> cu_window_seqlens;  // patch offsets of the windows, consecutive duplicates removed
};
WindowIndex window_index(const std::vector<Grid>& grids, int64_t window_size, int64_t merge, int64_t patch);

// Patch offsets of the frames (full-attention blocks attend within one frame): [0, h*w, ...].
std::vector<int64_t> frame_seqlens(const std::vector<Grid>& grids);

}  // namespace kvb::qwen
