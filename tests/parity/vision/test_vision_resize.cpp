// Resize and Qwen2-VL processor parity with Pillow / transformers' steps (goldens.json from
// make_goldens.py).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

#include "models/qwen2_5_vl/processor.h"
#include "tests/parity/vision/vision_goldens.h"
#include "vision/image.h"
#include "vision/resize.h"

using kvb::vision_test::goldens;
using kvb::vision_test::make_image;

namespace {

// qwen-vl-utils' to_rgb in our terms: grey replicated, RGBA composited over white.
at::Tensor to_rgb(const at::Tensor& img) {
  if (img.size(2) == 1) return img.expand({-1, -1, 3}).contiguous();
  if (img.size(2) == 4) return kvb::composite_over_white(img);
  return img;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double max_diff = 0;
  std::ostringstream first;
  int shown = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double d = std::abs(got[i] - want[i]);
    max_diff = std::max(max_diff, d);
    if (d > tol && shown < 5) first << " [" << i << "] " << got[i] << " vs " << want[i] << ";", ++shown;
  }
  EXPECT_LE(max_diff, tol) << what << ": max diff " << max_diff << "; first mismatches:" << first.str();
}

std::vector<double> to_vec(const at::Tensor& t) {
  at::Tensor d = t.to(at::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

}  // namespace

TEST(VisionResize, ToRgbMatchesPillow) {
  for (const auto& im : goldens()["images"]) {
    at::Tensor img = make_image(im["kind"], im["height"], im["width"]);
    kvb::vision_test::expect_u8_summary(to_rgb(img), im["to_rgb"], im["name"].get<std::string>() + " to_rgb");
  }
}

TEST(VisionResize, BicubicMatchesPillowExactly) {
  int checked = 0;
  for (const auto& im : goldens()["images"]) {
    at::Tensor rgb = to_rgb(make_image(im["kind"], im["height"], im["width"]));
    for (const auto& r : im["resize"]) {
      at::Tensor out = kvb::resize_bicubic_pil(rgb, r["height"], r["width"]);
      kvb::vision_test::expect_u8_summary(out, r, fmt::format("{} -> {}x{}", im["name"].get<std::string>(),
                                                              r["height"].get<int>(), r["width"].get<int>()));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 9);
}

TEST(VisionResize, TorchAntialiasStaysWithinRoundingOfPillow) {
  // torch's antialiased bicubic uses the same kernel (a = -0.5, support scaled by the
  // downscale factor) but keeps float between the passes; Pillow rounds to uint8 after the
  // first pass and clips its overshoot. On an image whose overshoot stays inside [0, 255] they
  // differ by rounding only (the Pillow-exact resize is the reference).
  const std::pair<int64_t, int64_t> sizes[] = {{33, 44}, {224, 476}, {97, 50}, {200, 230}};
  at::Tensor img = (kvb::vision_test::synth(97, 213, 3).to(at::kInt) / 2 + 64).to(at::kByte);
  for (auto [h, w] : sizes) {
    at::Tensor a = kvb::resize_bicubic_torch_aa(img, h, w).to(at::kInt);
    at::Tensor b = kvb::resize_bicubic_pil(img, h, w).to(at::kInt);
    ASSERT_EQ(a.sizes(), b.sizes());
    int max_diff = (a - b).abs().max().item<int>();
    EXPECT_LE(max_diff, 1) << h << "x" << w;
    EXPECT_LT((a - b).abs().to(at::kDouble).mean().item<double>(), 0.5) << h << "x" << w;
  }
}

TEST(VisionResize, SameSizeIsACopy) {
  at::Tensor img = kvb::vision_test::synth(37, 53, 3);
  EXPECT_TRUE(at::equal(kvb::resize_bicubic_pil(img, 37, 53), img));
}

TEST(VisionProcessor, PixelValuesMatchTransformersSteps) {
  for (const auto& im : goldens()["images"]) {
    kvb::Image image{to_rgb(make_image(im["kind"], im["height"], im["width"]))};
    for (const auto& p : im["processor"]) {
      const std::string what = im["name"].get<std::string>() + " / " + p["config"].get<std::string>();
      kvb::QwenProcessorConfig cfg;
      cfg.min_pixels = p["min_pixels"];
      cfg.max_pixels = p["max_pixels"];
      auto size = kvb::smart_resize(image.height(), image.width(), cfg.factor(), cfg.min_pixels, cfg.max_pixels);
      EXPECT_EQ((std::vector<int64_t>{size.first, size.second}), p["resized"].get<std::vector<int64_t>>()) << what;
      kvb::VisionInput in = kvb::preprocess_image(image, cfg);
      ASSERT_EQ(in.pixel_values.scalar_type(), at::kFloat) << what;
      std::vector<int64_t> shape(in.pixel_values.sizes().begin(), in.pixel_values.sizes().end());
      ASSERT_EQ(shape, p["shape"].get<std::vector<int64_t>>()) << what;
      ASSERT_EQ(in.grid_thw.sizes(), (at::IntArrayRef{1, 3})) << what;
      EXPECT_EQ(to_vec(in.grid_thw[0]), p["grid_thw"].get<std::vector<double>>()) << what;
      EXPECT_EQ(in.second_per_grid_t, 0.0);

      at::Tensor pv = in.pixel_values.to(at::kDouble);
      expect_close(to_vec(pv[0].slice(0, 0, 64)), p["first_row_head"], 1e-5, what + " first row");
      expect_close(to_vec(pv[-1].slice(0, -64)), p["last_row_tail"], 1e-5, what + " last row");
      expect_close(to_vec(pv.sum(1)), p["row_sums"], 1e-5 * pv.size(1), what + " row sums");
      const double n = static_cast<double>(pv.numel());
      expect_close({pv.sum().item<double>(), pv.abs().sum().item<double>()},
                   {p["sum"].get<double>(), p["abs_sum"].get<double>()}, 1e-5 * n, what + " sums");
      at::Tensor w = at::arange(pv.numel(), at::kLong).mul(static_cast<int64_t>(2654435761LL)).remainder(1000003).to(at::kDouble) / 1000003.0;
      expect_close({(pv.reshape(-1) * w).sum().item<double>()}, {p["checksum"].get<double>()}, 1e-5 * n,
                   what + " weighted checksum");
    }
  }
}

TEST(VisionProcessor, SmartResizeRoundsHalfToEvenLikePython) {
  // Python: round(42 / 28) = round(1.5) = 2, round(70 / 28) = round(2.5) = 2.
  auto a = kvb::smart_resize(42, 70, 28, 56 * 56, 28 * 28 * 1280);
  EXPECT_EQ(a.first, 56);
  EXPECT_EQ(a.second, 56);
  // 5000x20: aspect 250 > 200 is refused.
  EXPECT_THROW(kvb::smart_resize(5000, 20, 28, 56 * 56, 28 * 28 * 1280), kvb::Error);
}

TEST(VisionProcessor, ConfigFromPreprocessorJson) {
  // Qwen2.5-VL-7B-Instruct's preprocessor_config.json as published.
  auto j = nlohmann::json::parse(R"({
    "min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "temporal_patch_size": 2,
    "merge_size": 2, "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2_5_VLProcessor"})");
  auto c = kvb::QwenProcessorConfig::from_json(j, "preprocessor_config.json");
  EXPECT_EQ(c.min_pixels, 3136);
  EXPECT_EQ(c.max_pixels, 12845056);
  EXPECT_EQ(c.factor(), 28);
  // transformers: `size` is used when min_pixels/max_pixels are absent.
  auto s = kvb::QwenProcessorConfig::from_json(
      nlohmann::json::parse(R"({"size": {"shortest_edge": 100000, "longest_edge": 200000}})"), "p.json");
  EXPECT_EQ(s.min_pixels, 100000);
  EXPECT_EQ(s.max_pixels, 200000);
  try {
    kvb::QwenProcessorConfig::from_json(nlohmann::json::parse(R"({"patch_sise": 14})"), "p.json");
    FAIL() << "unknown key accepted";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("patch_sise"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("p.json"), std::string::npos) << e.what();
  }
}

TEST(VisionImage, ExifTransposeMatchesPillow) {
  const auto& g = goldens()["exif_transpose"];
  std::vector<uint8_t> flat;
  for (const auto& row : g["input"])
    for (const auto& px : row)
      for (const auto& v : px) flat.push_back(v.get<uint8_t>());
  at::Tensor base = at::from_blob(flat.data(), {3, 5, 3}, at::kByte).clone();
  for (int o = 1; o <= 8; ++o) {
    const auto& want = g["outputs"][std::to_string(o)];
    at::Tensor got = kvb::apply_exif_orientation(base, o);
    ASSERT_EQ(got.size(0), static_cast<int64_t>(want.size())) << "orientation " << o;
    ASSERT_EQ(got.size(1), static_cast<int64_t>(want[0].size())) << "orientation " << o;
    std::vector<uint8_t> w;
    for (const auto& row : want)
      for (const auto& px : row)
        for (const auto& v : px) w.push_back(v.get<uint8_t>());
    at::Tensor wt = at::from_blob(w.data(), got.sizes(), at::kByte);
    EXPECT_TRUE(at::equal(got.contiguous(), wt)) << "orientation " << o;
  }
}
