#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <random>

#include "benchmarks/needle_draw.h"
#include "core/error.h"

namespace kvb::needle {

bool images_available() { return true; }

std::string draw_png(const std::string& caption, int size, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1)); };
  // Dark background and light shapes keep the caption's contrast high whatever the seed.
  cv::Mat img(size, size, CV_8UC3, cv::Scalar(pick(0, 90), pick(0, 90), pick(0, 90)));
  for (int k = 0; k < 3; ++k) {
    cv::Scalar colour(pick(100, 200), pick(100, 200), pick(100, 200));
    cv::Point c(pick(0, size - 1), pick(0, size - 1));
    if (rng() % 2)
      cv::circle(img, c, pick(size / 10, size / 4), colour, cv::FILLED);
    else
      cv::rectangle(img, c, c + cv::Point(pick(size / 8, size / 3), pick(size / 8, size / 3)), colour, cv::FILLED);
  }
  // Largest scale at which the caption fits 90% of the width.
  const int font = cv::FONT_HERSHEY_SIMPLEX, thick = std::max(1, size / 48);
  int base = 0;
  cv::Size unit = cv::getTextSize(caption, font, 1.0, thick, &base);
  double scale = 0.9 * size / std::max(1, unit.width);
  cv::Size box = cv::getTextSize(caption, font, scale, thick, &base);
  cv::Point org((size - box.width) / 2, (size + box.height) / 2);
  cv::rectangle(img, org + cv::Point(-2, base), org + cv::Point(box.width + 2, -box.height - 2), cv::Scalar(0, 0, 0),
                cv::FILLED);
  cv::putText(img, caption, org, font, scale, cv::Scalar(255, 255, 255), thick, cv::LINE_AA);
  std::vector<uchar> png;
  KVB_CHECK(cv::imencode(".png", img, png), "needle: PNG encoding failed");
  return std::string(png.begin(), png.end());
}

}  // namespace kvb::needle
