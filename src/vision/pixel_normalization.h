#pragma once
// The pixel steps every Hugging Face image processor here shares after resizing: rescale by
// rescale_factor, normalize by image_mean / image_std, read from preprocessor_config.json and
// computed in transformers' order so the HF parity goldens match bit for bit.
#include <ATen/core/Tensor.h>

#include <vector>

namespace kvb {

class ConfigReader;

struct PixelNormalization {
  double rescale_factor = 1.0 / 255.0;
  std::vector<double> image_mean{0.48145466, 0.4578275, 0.40821073};  // OPENAI_CLIP_MEAN (the processors' default)
  std::vector<double> image_std{0.26862954, 0.26130258, 0.27577711};  // OPENAI_CLIP_STD

  // Reads rescale_factor, image_mean and image_std, and the switches every processor config
  // holds: do_resize, do_rescale, do_normalize and do_convert_rgb must be on and resample 3
  // (bicubic), the only path implemented. Errors name r.component().
  void read(ConfigReader& r);

  // [H, W, 3] uint8 (any strides) -> [3, H, W] float32.
  at::Tensor apply(const at::Tensor& hwc_u8) const;
};

}  // namespace kvb
