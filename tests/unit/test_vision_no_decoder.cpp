// In a build with -DKVB_WITH_OPENCV=OFF, decoding fails at run time with a clear message.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/qwen2_5_vl/video_sampling.h"
#include "tests/unit/error_text.h"
#include "vision/image.h"

#ifndef KVB_WITH_OPENCV
TEST(VisionWithoutOpenCV, DecodingSaysBuiltWithoutOpenCV) {
  EXPECT_FALSE(kvb::vision_decoding_available());
  auto message = [](auto&& fn) { return kvb::test::error_text(fn); };
  std::string m = message([] { kvb::decode_image_file("a.jpg"); });
  EXPECT_NE(m.find("built without OpenCV"), std::string::npos) << m;
  EXPECT_NE(m.find("a.jpg"), std::string::npos) << m;
  m = message([] { kvb::decode_image_bytes("xx", "tsv row 3"); });
  EXPECT_NE(m.find("built without OpenCV"), std::string::npos) << m;
  m = message([] { kvb::sample_video("v.mp4", kvb::VideoSamplingConfig{}); });
  EXPECT_NE(m.find("built without OpenCV"), std::string::npos) << m;
}
#endif
