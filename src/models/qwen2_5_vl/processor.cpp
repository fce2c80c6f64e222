#include "models/qwen2_5_vl/processor.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/config.h"
#include "core/error.h"
#include "vision/resize.h"
#include "vision/round_by_factor.h"

namespace kvb {

QwenProcessorConfig QwenProcessorConfig::from_json(const json& j, const std::string& file) {
  QwenProcessorConfig c;
  ConfigReader r(j, file);
  std::string ignored;  // keys transformers writes that do not change what this processor computes
  json size = json::object();
  json min_pixels = nullptr, max_pixels = nullptr;
  r.get("patch_size", c.patch_size)
      .get("temporal_patch_size", c.temporal_patch_size)
      .get("merge_size", c.merge_size)
      .get("min_pixels", min_pixels)
      .get("max_pixels", max_pixels)
      .get("size", size)
      .get("image_processor_type", ignored)
      .get("processor_class", ignored)
      .get("feature_extractor_type", ignored)
      .get("video_processor_type", ignored);
  c.pixels.read(r);
  // Written by newer transformers (fast processors); no effect on this computation.
  json unused;
  for (const char* k : {"data_format", "input_data_format", "device", "return_tensors", "disable_grouping",
                        "default_to_square", "crop_size", "do_center_crop", "do_pad"})
    r.get(k, unused);
  r.finish();
  // transformers: `size` holds {shortest_edge, longest_edge} in pixels; explicit
  // min_pixels/max_pixels override it.
  if (!size.is_object()) KVB_FAIL("{}: 'size' must be an object, got {}", file, size.dump());
  auto read_int = [&](const json& v, const char* key) -> int64_t {
    KVB_CHECK(v.is_number_integer() || (v.is_number() && v.get<double>() == std::floor(v.get<double>())),
              "{}: '{}' must be an integer, got {}", file, key, v.dump());
    return v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
  };
  for (auto it = size.begin(); it != size.end(); ++it) {
    if (it.key() == "shortest_edge") c.min_pixels = read_int(it.value(), "size.shortest_edge");
    else if (it.key() == "longest_edge") c.max_pixels = read_int(it.value(), "size.longest_edge");
    else KVB_FAIL("{}: unknown key 'size.{}'; accepted: longest_edge, shortest_edge", file, it.key());
  }
  if (!min_pixels.is_null()) c.min_pixels = read_int(min_pixels, "min_pixels");
  if (!max_pixels.is_null()) c.max_pixels = read_int(max_pixels, "max_pixels");

  KVB_CHECK(c.patch_size > 0 && c.temporal_patch_size > 0 && c.merge_size > 0,
            "{}: patch_size, temporal_patch_size and merge_size must be positive", file);
  KVB_CHECK(c.min_pixels > 0 && c.max_pixels >= c.min_pixels,
            "{}: need 0 < min_pixels <= max_pixels, got {} and {}", file, c.min_pixels, c.max_pixels);
  return c;
}

int64_t VisionInput::num_tokens(int64_t merge_size) const {
  KVB_CHECK(grid_thw.defined() && grid_thw.numel() == 3, "VisionInput: grid_thw is not set");
  at::Tensor g = grid_thw.to(at::kLong).contiguous();
  const int64_t* p = g.data_ptr<int64_t>();
  return p[0] * p[1] * p[2] / (merge_size * merge_size);
}

std::pair<int64_t, int64_t> smart_resize(int64_t height, int64_t width, int64_t factor,
                                         int64_t min_pixels, int64_t max_pixels) {
  KVB_CHECK(height > 0 && width > 0, "image {}x{} is empty", height, width);
  const double ratio = static_cast<double>(std::max(height, width)) / std::min(height, width);
  KVB_CHECK(ratio <= 200, "image {}x{}: aspect ratio {:.1f} exceeds 200", height, width, ratio);
  int64_t h_bar = round_by_factor(static_cast<double>(height), factor);
  int64_t w_bar = round_by_factor(static_cast<double>(width), factor);
  if (h_bar * w_bar > max_pixels) {
    double beta = std::sqrt(static_cast<double>(height * width) / static_cast<double>(max_pixels));
    h_bar = std::max(factor, floor_by_factor(height / beta, factor));
    w_bar = std::max(factor, floor_by_factor(width / beta, factor));
  } else if (h_bar * w_bar < min_pixels) {
    double beta = std::sqrt(static_cast<double>(min_pixels) / static_cast<double>(height * width));
    h_bar = ceil_by_factor(height * beta, factor);
    w_bar = ceil_by_factor(width * beta, factor);
  }
  return {h_bar, w_bar};
}

VisionInput patchify_frames(const std::vector<at::Tensor>& frames_u8, const QwenProcessorConfig& cfg) {
  KVB_CHECK(!frames_u8.empty(), "patchify_frames: no frames");
  const int64_t H = frames_u8[0].size(0), W = frames_u8[0].size(1);
  const int64_t P = cfg.patch_size, M = cfg.merge_size, TP = cfg.temporal_patch_size;
  KVB_CHECK(H % (P * M) == 0 && W % (P * M) == 0,
            "patchify_frames: frame size {}x{} is not a multiple of {}", H, W, P * M);
  for (const auto& f : frames_u8) {
    KVB_CHECK(f.dim() == 3 && f.scalar_type() == at::kByte && f.size(2) == 3 && f.size(0) == H && f.size(1) == W,
              "patchify_frames: every frame must be [{}, {}, 3] uint8, got {}", H, W, c10::str(f.sizes()));
  }
  // For uint8 input the normalisation is a 256-entry table per channel, so the patches are
  // written in one pass.
  const int64_t C = 3;
  float lut[3][256];
  const at::Tensor table = cfg.pixels.apply(at::arange(256, at::kByte).view({1, 256, 1}).expand({1, 256, C}));
  std::memcpy(lut, table.data_ptr<float>(), sizeof lut);  // [C, 1, 256], contiguous
  std::vector<at::Tensor> frames;
  std::vector<const uint8_t*> src;
  for (const auto& f : frames_u8) frames.push_back(f.contiguous());
  for (const auto& f : frames) src.push_back(f.data_ptr<uint8_t>());
  // A frame count that is not a multiple of the temporal patch repeats the last frame (a
  // single image becomes temporal_patch_size copies of itself).
  const int64_t T = static_cast<int64_t>(frames.size());
  const int64_t gt = (T + TP - 1) / TP, gh = H / P, gw = W / P;
  const int64_t row_len = C * TP * P * P, rows = gt * gh * gw;
  at::Tensor patches = at::empty({rows, row_len}, at::kFloat);
  float* dst = patches.data_ptr<float>();
  // Row order of HF's reshape(gt, TP, C, gh/M, M, P, gw/M, M, P).permute(0,3,6,4,7,2,1,5,8):
  // (t, h block, w block, h in block, w in block); within a row (C, TP, P, P).
  at::parallel_for(0, rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rest = r;
      const int64_t wm = rest % M; rest /= M;
      const int64_t hm = rest % M; rest /= M;
      const int64_t wb = rest % (gw / M); rest /= gw / M;
      const int64_t hb = rest % (gh / M); rest /= gh / M;
      const int64_t t = rest;
      const int64_t y0 = (hb * M + hm) * P, x0 = (wb * M + wm) * P;
      float* o = dst + r * row_len;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t tp = 0; tp < TP; ++tp) {
          const uint8_t* f = src[std::min(t * TP + tp, T - 1)];
          for (int64_t py = 0; py < P; ++py) {
            const uint8_t* line = f + ((y0 + py) * W + x0) * C + c;
            for (int64_t px = 0; px < P; ++px) *o++ = lut[c][line[px * C]];
          }
        }
    }
  });
  VisionInput out;
  out.pixel_values = patches;
  out.grid_thw = at::tensor(std::vector<int64_t>{gt, gh, gw}, at::kLong).reshape({1, 3});
  return out;
}

VisionInput preprocess_image(const Image& image, const QwenProcessorConfig& cfg) {
  KVB_CHECK(image.rgb.defined() && image.rgb.dim() == 3 && image.rgb.size(2) == 3,
            "preprocess_image: expected an [H, W, 3] RGB image");
  auto [h, w] = smart_resize(image.height(), image.width(), cfg.factor(), cfg.min_pixels, cfg.max_pixels);
  at::Tensor resized = resize_bicubic_pil(image.rgb, h, w);
  return patchify_frames({resized}, cfg);
}

}  // namespace kvb
