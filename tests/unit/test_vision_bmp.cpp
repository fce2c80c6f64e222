// Our own BMP decoder (what a build without OpenCV can read), on files written byte by byte
// from the BMP layout (BITMAPFILEHEADER + BITMAPINFOHEADER, rows padded to 4 bytes, B G R).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/unit/error_text.h"
#include "vision/bmp.h"
#include "vision/image.h"

namespace {
std::string le32(uint32_t v) { return {char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; }
std::string le16(uint16_t v) { return {char(v), char(v >> 8)}; }

// Header for `pixels` bytes of pixel data.
std::string header(int32_t w, int32_t h, uint16_t bpp, uint32_t compression, size_t pixels) {
  return "BM" + le32(static_cast<uint32_t>(54 + pixels)) + le32(0) + le32(54) + le32(40) +
         le32(static_cast<uint32_t>(w)) + le32(static_cast<uint32_t>(h)) + le16(1) + le16(bpp) + le32(compression) +
         le32(static_cast<uint32_t>(pixels)) + le32(2835) + le32(2835) + le32(0) + le32(0);
}

std::string error_of(const std::string& bytes) {
  try {
    kvb::decode_bmp(bytes, "t.bmp");
  } catch (const kvb::Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

// 3x2 image; each row is 9 bytes + 3 padding. Stored bottom row first (positive height).
TEST(VisionBmp, BottomUpRowsWithPadding) {
  const std::string bottom = std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9) + std::string(3, '\0');
  const std::string top = std::string("\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12", 9) + std::string(3, '\0');
  const kvb::Image img = kvb::decode_bmp(header(3, 2, 24, 0, 24) + bottom + top, "t.bmp");
  ASSERT_EQ(img.rgb.sizes(), (std::vector<int64_t>{2, 3, 3}));
  // RGB of (row, col): B G R stored, top row is the second stored row.
  const std::vector<uint8_t> want = {12, 11, 10, 15, 14, 13, 18, 17, 16,  // top row
                                     3,  2,  1,  6,  5,  4,  9,  8,  7};  // bottom row
  const at::Tensor flat = img.rgb.reshape({-1});
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(flat[static_cast<int64_t>(i)].item<int64_t>(), want[i]) << "byte " << i;
}

TEST(VisionBmp, TopDownWhenHeightIsNegative) {
  const std::string first = std::string("\x01\x02\x03", 3) + std::string(1, '\0');
  const std::string second = std::string("\x04\x05\x06", 3) + std::string(1, '\0');
  const kvb::Image img = kvb::decode_bmp(header(1, -2, 24, 0, 8) + first + second, "t.bmp");
  ASSERT_EQ(img.rgb.sizes(), (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(img.rgb[0][0][0].item<int64_t>(), 3);  // first stored row is the top one
  EXPECT_EQ(img.rgb[1][0][2].item<int64_t>(), 4);
}

TEST(VisionBmp, OtherVariantsAndTruncationAreClearErrors) {
  EXPECT_NE(error_of(header(2, 2, 32, 0, 16) + std::string(16, '\0')).find("only uncompressed 24-bit BMP"),
            std::string::npos);
  EXPECT_NE(error_of(header(2, 2, 24, 1, 16) + std::string(16, '\0')).find("compression 1"), std::string::npos);
  EXPECT_NE(error_of(header(5, 5, 24, 0, 80) + std::string(10, '\0')).find("truncated"), std::string::npos);
  EXPECT_NE(error_of("BM").find("t.bmp"), std::string::npos);
  EXPECT_FALSE(kvb::is_bmp("\x89PNG"));
}

// Reading an image file reads a regular file of bounded size, never a device or a pipe.
TEST(VisionImageFile, OnlyRegularFilesAreRead) {
  EXPECT_EQ(kvb::test::error_text([] { kvb::decode_image_file("/dev/zero"); }), "/dev/zero: not a regular file");
  EXPECT_EQ(kvb::test::error_text([] { kvb::decode_image_file("/nonexistent/x.bmp"); }),
            "/nonexistent/x.bmp: cannot open image file");
}
