// Decoding with OpenCV against Pillow's decode + to_rgb/exif_transpose (goldens.json).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/prompt.h"
#include "tests/parity/vision/vision_goldens.h"
#include "tests/unit/error_text.h"
#include "vision/base64.h"
#include "vision/image.h"

using kvb::vision_test::goldens;

namespace {

at::Tensor golden_rgb(const nlohmann::json& rows) {
  std::vector<uint8_t> flat;
  for (const auto& row : rows)
    for (const auto& px : row)
      for (const auto& v : px) flat.push_back(v.get<uint8_t>());
  return at::from_blob(flat.data(), {static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size()), 3},
                       at::kByte)
      .clone();
}

}  // namespace

TEST(VisionDecode, MatchesPillow) {
  ASSERT_TRUE(kvb::vision_decoding_available());
  for (const auto& f : goldens()["files"]) {
    const std::string name = f["name"];
    std::string bytes = kvb::base64_decode(f["base64"], name);
    kvb::Image img = kvb::decode_image_bytes(bytes, name);
    at::Tensor want = golden_rgb(f["rgb"]);
    ASSERT_EQ(img.rgb.sizes(), want.sizes()) << name << ": orientation or size differs";
    at::Tensor diff = (img.rgb.to(at::kInt) - want.to(at::kInt)).abs();
    // PNG is lossless: exact. JPEG: OpenCV's and Pillow's libjpeg builds may round the
    // inverse DCT / chroma upsampling differently by a level or two.
    const int tol = name.rfind("jpeg", 0) == 0 ? 3 : 0;
    EXPECT_LE(diff.max().item<int>(), tol) << name << ": max diff " << diff.max().item<int>()
                                           << ", mean " << diff.to(at::kDouble).mean().item<double>();
    if (name == "jpeg_exif6") EXPECT_EQ(kvb::exif_orientation(bytes), 6);
    else EXPECT_EQ(kvb::exif_orientation(bytes), 1) << name;
  }
}

TEST(VisionDecode, FileAndMediaRef) {
  const auto& f = goldens()["files"][3];  // png_rgb
  std::string bytes = kvb::base64_decode(f["base64"], "png_rgb");
  std::string path = ::testing::TempDir() + "kvb_vision_decode.png";
  std::ofstream(path, std::ios::binary) << bytes;
  kvb::Image a = kvb::decode_image_file(path);
  kvb::Image b = kvb::load_media_image(kvb::MediaRef{path, "", "x"});
  kvb::Image c = kvb::load_media_image(kvb::MediaRef{"", bytes, "row 3"});
  EXPECT_TRUE(at::equal(a.rgb, golden_rgb(f["rgb"])));
  EXPECT_TRUE(at::equal(a.rgb, b.rgb));
  EXPECT_TRUE(at::equal(a.rgb, c.rgb));
  std::remove(path.c_str());
}

TEST(VisionDecode, ErrorsNameTheSource) {
  auto message = [](auto&& fn) { return kvb::test::error_text(fn); };
  std::string m = message([] { kvb::decode_image_bytes("not an image at all", "hr_bench_4k.tsv row 17"); });
  EXPECT_NE(m.find("hr_bench_4k.tsv row 17"), std::string::npos) << m;
  m = message([] { kvb::decode_image_file("/nonexistent/dir/img.jpg"); });
  EXPECT_NE(m.find("/nonexistent/dir/img.jpg"), std::string::npos) << m;
  m = message([] { kvb::load_media_image(kvb::MediaRef{"/nonexistent/x.png", "", "MileBench/GPR1200 sample 4"}); });
  EXPECT_NE(m.find("MileBench/GPR1200 sample 4"), std::string::npos) << m;
  // A truncated JPEG: the first 40 bytes of a real one.
  std::string jpeg = kvb::base64_decode(goldens()["files"][0]["base64"], "jpeg");
  m = message([&] { kvb::decode_image_bytes(jpeg.substr(0, 40), "truncated.jpg"); });
  EXPECT_NE(m.find("truncated.jpg"), std::string::npos) << m;
}
