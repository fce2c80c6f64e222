#include "vision/clip_processor.h"

#include <ATen/ATen.h>

#include "core/config.h"
#include "core/error.h"
#include "vision/resize.h"

namespace kvb {

ClipProcessorConfig ClipProcessorConfig::from_json(const json& j, const std::string& file) {
  ClipProcessorConfig c;
  ConfigReader r(j, file);
  bool do_center_crop = true;
  json size = json::object(), crop = json::object(), ignored;
  r.get("size", size).get("crop_size", crop).get("do_center_crop", do_center_crop);
  c.pixels.read(r);
  // Written by transformers without changing what this processor computes.
  for (const char* k : {"image_processor_type", "processor_class", "feature_extractor_type", "data_format",
                        "input_data_format", "default_to_square", "device", "return_tensors"})
    r.get(k, ignored);
  r.finish();
  KVB_CHECK(do_center_crop, "{}: do_center_crop = false is not supported", file);
  auto integer = [&](const json& obj, const char* key, const char* field) -> int64_t {
    KVB_CHECK(obj.is_object() && obj.contains(key) && obj[key].is_number_integer() && obj[key].get<int64_t>() > 0,
              "{}: field '{}' must be an object with a positive integer '{}', got {}", file, field, key, obj.dump());
    return obj[key].get<int64_t>();
  };
  KVB_CHECK(size.is_object() && size.size() == 1 && size.contains("shortest_edge"),
            "{}: field 'size' must be {{\"shortest_edge\": N}} (LLaVA-1.5's layout), got {}", file, size.dump());
  c.shortest_edge = integer(size, "shortest_edge", "size");
  c.crop_height = integer(crop, "height", "crop_size");
  c.crop_width = integer(crop, "width", "crop_size");
  // A crop larger than the resized image would need transformers' zero padding, which no LLaVA
  // checkpoint uses.
  KVB_CHECK(c.crop_height <= c.shortest_edge && c.crop_width <= c.shortest_edge,
            "{}: field 'crop_size' ({}x{}) exceeds size.shortest_edge ({})", file, c.crop_height, c.crop_width,
            c.shortest_edge);
  return c;
}

std::pair<int64_t, int64_t> shortest_edge_size(int64_t height, int64_t width, int64_t shortest_edge) {
  const int64_t s = std::min(height, width), l = std::max(height, width);
  // Python: int(size * long / short), a float division truncated.
  const auto long_side = static_cast<int64_t>(static_cast<double>(shortest_edge * l) / static_cast<double>(s));
  return width <= height ? std::pair{long_side, shortest_edge} : std::pair{shortest_edge, long_side};
}

at::Tensor clip_preprocess(const Image& image, const ClipProcessorConfig& cfg) {
  KVB_CHECK(image.rgb.defined() && image.rgb.dim() == 3 && image.rgb.size(2) == 3,
            "clip_preprocess: expected an [H, W, 3] RGB image");
  const auto [h, w] = shortest_edge_size(image.height(), image.width(), cfg.shortest_edge);
  const at::Tensor resized = resize_bicubic_pil(image.rgb, h, w);
  const int64_t top = (h - cfg.crop_height) / 2, left = (w - cfg.crop_width) / 2;
  const at::Tensor crop = resized.narrow(0, top, cfg.crop_height).narrow(1, left, cfg.crop_width);
  return cfg.pixels.apply(crop);
}

}  // namespace kvb
