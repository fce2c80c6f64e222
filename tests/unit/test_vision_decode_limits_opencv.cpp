// Images the Python reference pipelines (PIL) refuse are errors here too, not silent successes:
// a JPEG cut off before its end-of-image marker, and an image above PIL's decompression-bomb limit.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <string>
#include <vector>

#include "unit/error_text.h"
#include "vision/image.h"

namespace {

std::string encode(const cv::Mat& m, const char* ext, std::vector<int> params = {}) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, m, buf, params));
  return std::string(buf.begin(), buf.end());
}

TEST(VisionDecodeLimits, TruncatedJpegIsAnError) {
  cv::Mat m(37, 53, CV_8UC3);
  cv::randu(m, 0, 255);
  const std::string jpg = encode(m, ".jpg");
  EXPECT_EQ(kvb::decode_image_bytes(jpg, "whole.jpg").width(), 53);  // the intact file decodes
  const std::string err = kvb::test::error_text([&] { kvb::decode_image_bytes(jpg.substr(0, jpg.size() / 2), "half.jpg"); });
  EXPECT_NE(err.find("half.jpg: JPEG data is truncated"), std::string::npos) << err;
  // Trailing bytes after the end-of-image marker are not truncation.
  EXPECT_EQ(kvb::decode_image_bytes(jpg + std::string(16, '\0'), "padded.jpg").height(), 37);
}

TEST(VisionDecodeLimits, ImagesAbovePilsPixelLimitAreErrors) {
  const cv::Mat big(13380, 13380, CV_8UC1, cv::Scalar(7));  // 179,024,400 > 178,956,970 pixels
  const std::string png = encode(big, ".png", {cv::IMWRITE_PNG_COMPRESSION, 1});
  const std::string err = kvb::test::error_text([&] { kvb::decode_image_bytes(png, "big.png"); });
  EXPECT_NE(err.find("big.png: image is 13380x13380 = 179024400 pixels, more than the 178956970"), std::string::npos)
      << err;
}

}  // namespace
