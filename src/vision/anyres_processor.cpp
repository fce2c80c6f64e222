#include "vision/anyres_processor.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "core/config.h"
#include "core/error.h"
#include "vision/resize.h"

#include <algorithm>
#include <filesystem>

namespace kvb {
namespace {

// Python's float `a // b` (floor of the exactly computed quotient, as floatobject.c does it).
double py_floordiv(double a, double b) {
  const double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
  double floordiv = std::floor(div);
  if (div - floordiv > 0.5) floordiv += 1.0;
  return floordiv;
}

// int(round(x, 7)) for the non-negative sizes unpadding computes.
int64_t int_round7(double x) { return static_cast<int64_t>(std::nearbyint(x * 1e7) / 1e7); }

at::Tensor resize_to(const at::Tensor& hwc_u8, int64_t h, int64_t w) {
  // PIL's resize returns a copy when the size does not change.
  if (hwc_u8.size(0) == h && hwc_u8.size(1) == w) return hwc_u8;
  return resize_bicubic_pil(hwc_u8.contiguous(), h, w);
}

}  // namespace

AnyresProcessorConfig AnyresProcessorConfig::from_json(const nlohmann::json& j, const std::string& file) {
  AnyresProcessorConfig c;
  ConfigReader r(j, file);
  bool do_pad = true;
  nlohmann::json size = {{"height", 384}, {"width", 384}}, pins = nullptr, ignored;
  r.get("size", size).get("image_grid_pinpoints", pins).get("do_pad", do_pad);
  c.pixels.read(r);
  // Written by transformers without changing what this processor computes (do_pad only pads
  // a batch's tile count).
  for (const char* k : {"image_processor_type", "processor_class", "data_format", "input_data_format", "device",
                        "return_tensors", "feature_extractor_type"})
    r.get(k, ignored);
  r.finish();
  // Tiles are cut size.height wide and tall (divide_to_patches takes one patch size).
  int64_t h = 0, w = 0;
  if (size.is_object() && size.contains("height") && size.contains("width") && size["height"].is_number_integer() &&
      size["width"].is_number_integer()) {
    h = size["height"].get<int64_t>(), w = size["width"].get<int64_t>();
  } else if (size.is_object() && size.contains("shortest_edge") && size["shortest_edge"].is_number_integer()) {
    h = w = size["shortest_edge"].get<int64_t>();
  }
  KVB_CHECK(h > 0 && h == w, "{}: field 'size' must be {{\"height\": N, \"width\": N}} with N > 0, got {}", file,
            size.dump());
  c.tile = h;
  if (!pins.is_null()) {
    KVB_CHECK(pins.is_array() && !pins.empty(), "{}: field 'image_grid_pinpoints' must be a non-empty list", file);
    for (const auto& e : pins) {
      KVB_CHECK(e.is_array() && e.size() == 2 && e[0].is_number_integer() && e[1].is_number_integer() &&
                    e[0].get<int64_t>() > 0 && e[1].get<int64_t>() > 0,
                "{}: field 'image_grid_pinpoints' entry {} is not [height, width] in positive pixels", file, e.dump());
      c.pinpoints.emplace_back(e[0].get<int64_t>(), e[1].get<int64_t>());
    }
  } else {
    for (int64_t a = 1; a <= 6; ++a)
      for (int64_t b = 1; b <= 6; ++b) c.pinpoints.emplace_back(a * 384, b * 384);
  }
  KVB_CHECK(c.pixels.rescale_factor > 0, "{}: field 'rescale_factor' must be positive", file);
  return c;
}

std::pair<int64_t, int64_t> select_best_resolution(int64_t height, int64_t width,
                                                   const std::vector<std::pair<int64_t, int64_t>>& pinpoints) {
  KVB_CHECK(!pinpoints.empty(), "select_best_resolution: no grid pinpoints");
  std::pair<int64_t, int64_t> best{0, 0};
  int64_t max_effective = 0;
  double min_wasted = std::numeric_limits<double>::infinity();
  for (const auto& [h, w] : pinpoints) {
    const double scale = std::min(static_cast<double>(w) / width, static_cast<double>(h) / height);
    const auto dw = static_cast<int64_t>(width * scale), dh = static_cast<int64_t>(height * scale);
    const int64_t effective = std::min(dw * dh, width * height);
    const auto wasted = static_cast<double>(w * h - effective);
    if (effective > max_effective || (effective == max_effective && wasted < min_wasted)) {
      max_effective = effective;
      min_wasted = wasted;
      best = {h, w};
    }
  }
  return best;
}

AnyresLayout anyres_layout(int64_t height, int64_t width, const std::vector<std::pair<int64_t, int64_t>>& pinpoints,
                           int64_t tile, int64_t pps, int64_t max_tiles) {
  AnyresLayout L;
  const auto [bh, bw] = select_best_resolution(height, width, pinpoints);
  L.grid_h = bh / tile, L.grid_w = bw / tile;
  L.base_tokens = pps * pps;
  int64_t ch = pps * L.grid_h, cw = pps * L.grid_w;
  // unpad_image: the padding the processor added, removed evenly on both sides.
  if (static_cast<double>(width) / height > static_cast<double>(cw) / ch) {
    const int64_t new_h = int_round7(height * (static_cast<double>(cw) / width));
    L.top = (ch - new_h) / 2;
    ch -= 2 * L.top;
  } else {
    const int64_t new_w = int_round7(width * (static_cast<double>(ch) / height));
    L.left = (cw - new_w) / 2;
    cw -= 2 * L.left;
  }
  L.rows = ch, L.cols = cw;
  const double ratio = std::sqrt(static_cast<double>(ch * cw) / static_cast<double>(max_tiles * pps * pps));
  L.pooled = ratio > 1.1;
  L.out_rows = L.pooled ? static_cast<int64_t>(py_floordiv(static_cast<double>(ch), ratio)) : ch;
  L.out_cols = L.pooled ? static_cast<int64_t>(py_floordiv(static_cast<double>(cw), ratio)) : cw;
  return L;
}

AnyresImage anyres_preprocess(const Image& image, const AnyresProcessorConfig& cfg) {
  KVB_CHECK(image.rgb.defined() && image.rgb.dim() == 3 && image.rgb.size(2) == 3,
            "anyres_preprocess: expected an [H, W, 3] RGB image");
  const int64_t H = image.height(), W = image.width(), S = cfg.tile;
  const auto [th, tw] = select_best_resolution(H, W, cfg.pinpoints);
  // _get_patch_output_size: fit inside the pinpoint keeping the aspect ratio (ceil, capped).
  const double scale_w = static_cast<double>(tw) / W, scale_h = static_cast<double>(th) / H;
  int64_t nh = th, nw = tw;
  if (scale_w < scale_h) nh = std::min(static_cast<int64_t>(std::ceil(H * scale_w)), th);
  else nw = std::min(static_cast<int64_t>(std::ceil(W * scale_h)), tw);
  const at::Tensor resized = resize_to(image.rgb, nh, nw);
  // _pad_for_patching pads (target - new) // 2 on both sides: one row/column short when odd.
  const int64_t py = (th - nh) / 2, px = (tw - nw) / 2;
  at::Tensor padded = at::zeros({nh + 2 * py, nw + 2 * px, 3}, at::kByte);
  padded.narrow(0, py, nh).narrow(1, px, nw).copy_(resized);
  std::vector<at::Tensor> out{cfg.pixels.apply(resize_to(image.rgb, S, S))};
  // divide_to_patches: S steps; edge tiles may be short and are then resized up to S x S.
  for (int64_t i = 0; i < padded.size(0); i += S)
    for (int64_t j = 0; j < padded.size(1); j += S) {
      const at::Tensor t = padded.narrow(0, i, std::min(S, padded.size(0) - i)).narrow(1, j, std::min(S, padded.size(1) - j));
      out.push_back(cfg.pixels.apply(resize_to(t, S, S)));
    }
  return {at::stack(out), H, W};
}

at::Tensor squash_preprocess(const Image& image, const AnyresProcessorConfig& cfg) {
  KVB_CHECK(image.rgb.defined() && image.rgb.dim() == 3 && image.rgb.size(2) == 3,
            "squash_preprocess: expected an [H, W, 3] RGB image");
  return cfg.pixels.apply(resize_to(image.rgb, cfg.tile, cfg.tile));
}

}  // namespace kvb
