// PixelNormalization::apply is the one place the three image processors rescale and normalize;
// the Qwen processor turns it into a per-channel table. Both must keep transformers' rounding:
// float64 rescale, float32 cast, float32 subtract and divide.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>

#include "vision/pixel_normalization.h"

namespace {

void expect_scalar_formula(const kvb::PixelNormalization& n) {
  const at::Tensor all = n.apply(at::arange(256, at::kByte).view({1, 256, 1}).expand({1, 256, 3}));
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{3, 1, 256}));
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(n.image_mean[c]), stdv = static_cast<float>(n.image_std[c]);
    for (int v = 0; v < 256; ++v) {
      const float want = (static_cast<float>(v * n.rescale_factor) - mean) / stdv;
      const float got = all[c][0][v].item<float>();
      EXPECT_EQ(std::memcmp(&got, &want, sizeof got), 0) << "channel " << c << " value " << v << ": " << got << " vs " << want;
    }
  }
}

TEST(PixelNormalization, MatchesTheScalarFormulaBitForBit) {
  expect_scalar_formula({});  // OPENAI_CLIP_MEAN / STD
  kvb::PixelNormalization half;
  half.image_mean = {0.5, 0.5, 0.5}, half.image_std = {0.5, 0.5, 0.5};
  expect_scalar_formula(half);
}

TEST(PixelNormalization, KeepsStridesOutOfTheResult) {
  const at::Tensor img = at::randint(0, 256, {7, 9, 3}, at::kByte);
  const kvb::PixelNormalization n;
  EXPECT_TRUE(n.apply(img.narrow(0, 1, 5).narrow(1, 2, 6)).equal(n.apply(img.narrow(0, 1, 5).narrow(1, 2, 6).contiguous())));
}

}  // namespace
