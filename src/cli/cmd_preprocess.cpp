// `kvbench preprocess (--image F | --video F | --synthetic HxW) [--family NAME] [--preprocessor FILE] [--json]`:
// runs a model family's image/video preprocessing alone (ModelFamily::preprocess_report) and
// reports sizes, grid, token count and time per stage (for checking a dataset's token budget
// and for `make bench`).
#include <ATen/ATen.h>

#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/timer.h"
#include "models/model.h"
#include "vision/image.h"

namespace {

struct Options {
  std::string image, video, synthetic, preprocessor, family = "qwen2_5_vl";
  int64_t min_pixels = 0, max_pixels = 0;
  double fps = 0;
  int64_t max_frames = 0, video_max_pixels = 0;
  int repeat = 1;
  bool json = false;
};

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

KVB_COMMAND(setup_preprocess, "preprocess", "Run a model family's image/video preprocessing alone (sizes, grid, tokens, timings)") {
  auto o = std::make_shared<Options>();
  sub.add_option("--image", o->image, "image file (JPEG/PNG/WebP...)");
  sub.add_option("--video", o->video, "video file");
  sub.add_option("--synthetic", o->synthetic, "a generated HEIGHTxWIDTH test image instead of a file");
  sub.add_option("--family", o->family, "model family whose processor runs (default qwen2_5_vl; see kvbench list models)");
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
    // The flags are the family's model-option keys for media.
    nlohmann::json options = nlohmann::json::object(), video = nlohmann::json::object();
    if (o->min_pixels > 0) options["min_pixels"] = o->min_pixels;
    if (o->max_pixels > 0) options["max_pixels"] = o->max_pixels;
    if (o->fps > 0) video["fps"] = o->fps;
    if (o->max_frames > 0) video["max_frames"] = o->max_frames;
    if (o->video_max_pixels > 0) video["max_pixels"] = o->video_max_pixels;
    if (!video.empty()) options["video"] = video;
    const auto family = kvb::Registry<kvb::ModelFamily>::instance().create(o->family, nlohmann::json::object());

    nlohmann::json out;
    for (int r = 0; r < o->repeat; ++r) {
      if (!o->video.empty()) {
        out = family->preprocess_report({nullptr, o->video}, o->preprocessor, options);
        continue;
      }
      kvb::Timer t;
      const kvb::Image img = o->image.empty() ? synthetic_image(o->synthetic) : kvb::decode_image_file(o->image);
      const double decode_ms = t.ms();
      out = family->preprocess_report({&img, ""}, o->preprocessor, options);
      out["decode_ms"] = decode_ms;
    }
    if (o->json) {
      std::cout << out.dump(2) << "\n";
      return;
    }
    for (auto& [k, v] : out.items()) std::cout << k << ": " << v.dump() << "\n";
  };
}
