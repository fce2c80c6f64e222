#include "vision/pixel_normalization.h"

#include <ATen/ATen.h>

#include "core/config.h"
#include "core/error.h"

namespace kvb {

void PixelNormalization::read(ConfigReader& r) {
  bool do_resize = true, do_rescale = true, do_normalize = true, do_convert_rgb = true;
  int64_t resample = 3;  // PIL.Image.BICUBIC
  r.get("rescale_factor", rescale_factor)
      .get("image_mean", image_mean)
      .get("image_std", image_std)
      .get("do_resize", do_resize)
      .get("do_rescale", do_rescale)
      .get("do_normalize", do_normalize)
      .get("do_convert_rgb", do_convert_rgb)
      .get("resample", resample);
  const std::string& file = r.component();
  KVB_CHECK(do_resize && do_rescale && do_normalize && do_convert_rgb,
            "{}: do_resize/do_rescale/do_normalize/do_convert_rgb = false is not supported", file);
  KVB_CHECK(resample == 3, "{}: field 'resample' = {} is not supported (only 3 = BICUBIC)", file, resample);
  KVB_CHECK(image_mean.size() == 3 && image_std.size() == 3,
            "{}: fields 'image_mean' and 'image_std' need 3 values (RGB), got {} and {}", file, image_mean.size(),
            image_std.size());
  for (double s : image_std) KVB_CHECK(s > 0, "{}: field 'image_std' values must be positive", file);
}

at::Tensor PixelNormalization::apply(const at::Tensor& hwc_u8) const {
  // transformers rescales in float64, casts to float32 and normalises in float32.
  const at::Tensor scaled = (hwc_u8.to(at::kDouble) * rescale_factor).to(at::kFloat);
  const at::Tensor mean = at::tensor(std::vector<float>(image_mean.begin(), image_mean.end()));
  const at::Tensor stdv = at::tensor(std::vector<float>(image_std.begin(), image_std.end()));
  return ((scaled - mean) / stdv).permute({2, 0, 1}).contiguous();
}

}  // namespace kvb
