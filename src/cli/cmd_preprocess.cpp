// `kvbench preprocess (--image F | --video F | --synthetic HxW) [--preprocessor FILE] [--json]`:
// runs the Qwen2-VL image/video preprocessing alone and reports sizes, grid, token count and
// time per stage (for checking a dataset's token budget and for `make bench`).
#include <ATen/ATen.h>

#include <chrono>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/config.h"
#include "core/error.h"
#include "vision/image.h"
#include "vision/qwen_processor.h"
#include "vision/resize.h"
#include "vision/video.h"

namespace {

struct Options {
  std::string image, video, synthetic, preprocessor;
  int64_t min_pixels = 0, max_pixels = 0;
  double fps = 0;
  int64_t max_frames = 0, video_max_pixels = 0;
  int repeat = 1;
  bool json = false;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// A deterministic test card: gradients plus a hashed texture, so resizing does real work.
kvb::Image synthetic_image(const std::string& spec) {
  int64_t h = 0, w = 0;
  char x = 0;
  std::istringstream in(spec);
  if (!(in >> h >> x >> w) || x != 'x' || h <= 0 || w <= 0)
    throw kvb::UsageError("--synthetic expects HEIGHTxWIDTH, e.g. 2160x3840; got '" + spec + "'");
  at::Tensor y = at::arange(h, at::kLong).view({h, 1, 1});
  at::Tensor xx = at::arange(w, at::kLong).view({1, w, 1});
  at::Tensor c = at::arange(3, at::kLong).view({1, 1, 3});
  at::Tensor v = xx * 7 + y * 13 + c * 71 + ((xx * 73856093) ^ (y * 19349663)).remainder(64);
  return kvb::Image{v.remainder(256).to(at::kByte).contiguous()};
}

}  // namespace

KVB_COMMAND(setup_preprocess, "preprocess", "Run Qwen2-VL image/video preprocessing alone (sizes, grid, tokens, timings)") {
  auto o = std::make_shared<Options>();
  sub.add_option("--image", o->image, "image file (JPEG/PNG/WebP...)");
  sub.add_option("--video", o->video, "video file");
  sub.add_option("--synthetic", o->synthetic, "a generated HEIGHTxWIDTH test image instead of a file");
  sub.add_option("--preprocessor", o->preprocessor, "preprocessor_config.json (default: transformers' defaults)");
  sub.add_option("--min-pixels", o->min_pixels, "override min_pixels");
  sub.add_option("--max-pixels", o->max_pixels, "override max_pixels");
  sub.add_option("--fps", o->fps, "video: frames sampled per second (qwen-vl-utils default 2)");
  sub.add_option("--max-frames", o->max_frames, "video: most frames sampled (default 768)");
  sub.add_option("--video-max-pixels", o->video_max_pixels, "video: per-frame pixel cap");
  sub.add_option("--repeat", o->repeat, "run N times and report the last (timing)")->check(CLI::PositiveNumber);
  sub.add_flag("--json", o->json, "print JSON");
  return [o] {
    const int sources = !o->image.empty() + !o->video.empty() + !o->synthetic.empty();
    if (sources != 1) throw kvb::UsageError("give exactly one of --image, --video, --synthetic");
    kvb::QwenProcessorConfig cfg;
    if (!o->preprocessor.empty())
      cfg = kvb::QwenProcessorConfig::from_json(kvb::read_json_file(o->preprocessor), o->preprocessor);
    if (o->min_pixels > 0) cfg.min_pixels = o->min_pixels;
    if (o->max_pixels > 0) cfg.max_pixels = o->max_pixels;

    nlohmann::json out;
    for (int r = 0; r < o->repeat; ++r) {
      out = nlohmann::json::object();
      kvb::VisionInput in;
      if (!o->video.empty()) {
        kvb::VideoSamplingConfig vc;
        if (o->fps > 0) vc.fps = o->fps;
        if (o->max_frames > 0) vc.max_frames = o->max_frames;
        if (o->video_max_pixels > 0) vc.max_pixels = o->video_max_pixels;
        auto t0 = std::chrono::steady_clock::now();
        kvb::SampledVideo v = kvb::sample_video(o->video, vc);
        out["decode_sample_resize_ms"] = ms_since(t0);
        t0 = std::chrono::steady_clock::now();
        in = kvb::preprocess_video(v, cfg);
        out["patchify_ms"] = ms_since(t0);
        out["source"] = {{"frames", v.total_frames}, {"fps", v.video_fps}};
        out["frame_indices"] = v.frame_indices;
        out["sample_fps"] = v.sample_fps;
        out["frame_size"] = {v.frames[0].height(), v.frames[0].width()};
        out["second_per_grid_t"] = in.second_per_grid_t;
      } else {
        auto t0 = std::chrono::steady_clock::now();
        kvb::Image img = o->image.empty() ? synthetic_image(o->synthetic) : kvb::decode_image_file(o->image);
        out["decode_ms"] = ms_since(t0);
        auto [h, w] = kvb::smart_resize(img.height(), img.width(), cfg.factor(), cfg.min_pixels, cfg.max_pixels);
        t0 = std::chrono::steady_clock::now();
        at::Tensor resized = kvb::resize_bicubic_pil(img.rgb, h, w);
        out["resize_ms"] = ms_since(t0);
        t0 = std::chrono::steady_clock::now();
        in = kvb::patchify_frames({resized}, cfg);
        out["patchify_ms"] = ms_since(t0);
        out["source"] = {{"height", img.height()}, {"width", img.width()}};
        out["resized"] = {h, w};
      }
      at::Tensor g = in.grid_thw.contiguous();
      out["grid_thw"] = {g[0][0].item<int64_t>(), g[0][1].item<int64_t>(), g[0][2].item<int64_t>()};
      out["pixel_values"] = {in.pixel_values.size(0), in.pixel_values.size(1)};
      out["tokens"] = in.num_tokens(cfg.merge_size);
    }
    if (o->json) {
      std::cout << out.dump(2) << "\n";
      return;
    }
    for (auto& [k, v] : out.items()) std::cout << k << ": " << v.dump() << "\n";
  };
}
