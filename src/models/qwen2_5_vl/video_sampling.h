#pragma once
// Video frame sampling as qwen-vl-utils' fetch_video does it (fps-based frame count rounded
// to FRAME_FACTOR, linspace frame indices, per-frame pixel budget from the total budget,
// antialiased bicubic frame resize), then the HF processor's video path.
// Decoding uses OpenCV VideoCapture; without OpenCV sample_video throws "built without OpenCV".
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/qwen2_5_vl/processor.h"
#include "vision/image.h"

namespace kvb {

struct VideoSamplingConfig {  // defaults = qwen-vl-utils' constants
  double fps = 2.0;            // FPS
  int64_t nframes = 0;         // > 0: fixed frame count instead of fps ("nframes" in ele)
  int64_t min_frames = 4;      // FPS_MIN_FRAMES
  int64_t max_frames = 768;    // FPS_MAX_FRAMES
  int64_t frame_factor = 2;    // FRAME_FACTOR
  int64_t image_factor = 28;   // IMAGE_FACTOR
  int64_t min_pixels = 128 * 28 * 28;  // VIDEO_MIN_PIXELS
  // Per-frame cap: VIDEO_MAX_PIXELS, lowered to total_pixels / nframes * FRAME_FACTOR (but not
  // below 1.05 * min_pixels). A positive max_pixels ("max_pixels" in ele) can only lower it.
  int64_t video_max_pixels = 768 * 28 * 28;  // VIDEO_MAX_PIXELS
  int64_t max_pixels = 0;                    // 0 = not given
  int64_t total_pixels = 90316800;           // VIDEO_TOTAL_PIXELS = int(128000 * 28 * 28 * 0.9)
  // Reads {"fps", "nframes", "min_frames", "max_frames", "min_pixels", "max_pixels",
  // "total_pixels"}; `what` names the source in errors. Unknown keys are errors.
  static VideoSamplingConfig from_json(const nlohmann::json& j, const std::string& what);
};

struct SampledVideo {
  std::vector<Image> frames;           // resized, all the same size
  std::vector<int64_t> frame_indices;  // which source frames were taken
  int64_t total_frames = 0;            // frames in the source
  double video_fps = 0;                // the source's frame rate
  double sample_fps = 0;               // nframes / total_frames * video_fps
};

// smart_nframes: frames to sample from a video of `total_frames` at `video_fps`.
int64_t smart_nframes(const VideoSamplingConfig& cfg, int64_t total_frames, double video_fps);
// torch.linspace(0, total_frames - 1, nframes).round() (float32, round half to even).
std::vector<int64_t> sample_frame_indices(int64_t total_frames, int64_t nframes);
// qwen-vl-utils' smart_resize (never below `factor` per side; max_pixels may be fractional).
std::pair<int64_t, int64_t> smart_resize_qwen_vl_utils(int64_t height, int64_t width, int64_t factor,
                                                       double min_pixels, double max_pixels);
// Per-frame (height, width) after resize for `nframes` frames of size height x width.
std::pair<int64_t, int64_t> video_frame_size(int64_t height, int64_t width, int64_t nframes,
                                             const VideoSamplingConfig& cfg);
// Resizes sampled source frames (each [H, W, 3] uint8) as fetch_video does.
std::vector<Image> resize_video_frames(const std::vector<Image>& frames, const VideoSamplingConfig& cfg);

// Decodes `path`, samples and resizes frames. Errors name the file.
SampledVideo sample_video(const std::string& path, const VideoSamplingConfig& cfg);

// A folder of frame images, as qwen-vl-utils takes a video given as a list of images: every
// file (sorted by name) through fetch_image's resize, the count padded to FRAME_FACTOR with the
// last frame, sample_fps = cfg.fps (the element's "fps", default 2.0).
SampledVideo sample_frame_folder(const std::string& dir, const VideoSamplingConfig& cfg);

// A MediaRef's video: a frame folder, a video file `path`, or `bytes` (written to a temporary file for the decoder).
// Errors are prefixed with `label` when set.
SampledVideo load_media_video(const MediaRef& media, const VideoSamplingConfig& cfg);

// Frames -> pixel_values/video_grid_thw with second_per_grid_t = temporal_patch_size /
// sample_fps (Qwen2_5_VLProcessor's second_per_grid_ts).
VisionInput preprocess_video(const SampledVideo& video, const QwenProcessorConfig& cfg);

}  // namespace kvb
