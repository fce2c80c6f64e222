#include "models/qwen2_5_vl/preprocess_report.h"

#include <ATen/ATen.h>

#include "core/timer.h"
#include "vision/resize.h"

namespace kvb::qwen {
namespace {

void add_grid(nlohmann::json& out, const VisionInput& in, const QwenProcessorConfig& cfg) {
  const at::Tensor g = in.grid_thw.contiguous();
  out["grid_thw"] = {g[0][0].item<int64_t>(), g[0][1].item<int64_t>(), g[0][2].item<int64_t>()};
  out["pixel_values"] = {in.pixel_values.size(0), in.pixel_values.size(1)};
  out["tokens"] = in.num_tokens(cfg.merge_size);
}

}  // namespace

nlohmann::json image_report(const Image& image, const QwenProcessorConfig& cfg) {
  nlohmann::json out = nlohmann::json::object();
  // The stages of preprocess_image, timed one by one.
  auto [h, w] = smart_resize(image.height(), image.width(), cfg.factor(), cfg.min_pixels, cfg.max_pixels);
  Timer t;
  const at::Tensor resized = resize_bicubic_pil(image.rgb, h, w);
  out["resize_ms"] = t.ms();
  t.reset();
  const VisionInput in = patchify_frames({resized}, cfg);
  out["patchify_ms"] = t.ms();
  out["source"] = {{"height", image.height()}, {"width", image.width()}};
  out["resized"] = {h, w};
  add_grid(out, in, cfg);
  return out;
}

nlohmann::json video_report(const std::string& path, const VideoSamplingConfig& vc, const QwenProcessorConfig& cfg) {
  nlohmann::json out = nlohmann::json::object();
  Timer t;
  const SampledVideo v = sample_video(path, vc);
  out["decode_sample_resize_ms"] = t.ms();
  t.reset();
  const VisionInput in = preprocess_video(v, cfg);
  out["patchify_ms"] = t.ms();
  out["source"] = {{"frames", v.total_frames}, {"fps", v.video_fps}};
  out["frame_indices"] = v.frame_indices;
  out["sample_fps"] = v.sample_fps;
  out["frame_size"] = {v.frames[0].height(), v.frames[0].width()};
  out["second_per_grid_t"] = in.second_per_grid_t;
  add_grid(out, in, cfg);
  return out;
}

}  // namespace kvb::qwen
