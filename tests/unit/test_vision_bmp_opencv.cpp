// Our BMP decoder against OpenCV's (the outside reference) on seeded images of odd sizes.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <opencv2/imgcodecs.hpp>

#include <random>
#include <vector>

#include "vision/bmp.h"
#include "vision/image.h"

TEST(VisionBmpOpenCV, MatchesImdecodeOnSeededImages) {
  std::mt19937 rng(37);
  for (auto [w, h] : std::vector<std::pair<int, int>>{{37, 23}, {1, 1}, {5, 501}, {130, 7}}) {
    cv::Mat m(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(rng() % 256, rng() % 256, rng() % 256);
    std::vector<uchar> buf;
    ASSERT_TRUE(cv::imencode(".bmp", m, buf));
    const std::string bytes(buf.begin(), buf.end());
    const at::Tensor ours = kvb::decode_bmp(bytes, "seeded").rgb;
    const at::Tensor ref = kvb::decode_image_bytes(bytes, "seeded").rgb;  // OpenCV path in this build
    ASSERT_EQ(ours.sizes(), ref.sizes()) << w << "x" << h;
    const at::Tensor diff = (ours.to(at::kInt) - ref.to(at::kInt)).abs();
    if (!at::equal(ours, ref)) {
      const int64_t first = diff.reshape({-1}).nonzero()[0].item<int64_t>();
      ADD_FAILURE() << w << "x" << h << ": first mismatch at flat index " << first << ", max diff "
                    << diff.max().item<int64_t>();
    }
  }
}
