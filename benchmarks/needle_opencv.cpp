#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <random>

#include "benchmarks/needle_draw.h"
#include "core/error.h"

namespace kvb::needle {

bool images_available() { return true; }

namespace {
std::string encode_png(const cv::Mat& img) {
  std::vector<uchar> png;
  KVB_CHECK(cv::imencode(".png", img, png), "needle: PNG encoding failed");
  return std::string(png.begin(), png.end());
}
}  // namespace

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
  return encode_png(img);
}

std::string draw_shape_png(Shape shape, const std::array<int, 3>& rgb, int size, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1)); };
  const int grey = pick(0, 60);
  cv::Mat img(size, size, CV_8UC3, cv::Scalar(grey, grey, grey));
  const cv::Scalar colour(rgb[2], rgb[1], rgb[0]);  // OpenCV is BGR
  const int extent = pick(size * 2 / 5, size * 4 / 5);
  const cv::Point o(pick(0, size - extent), pick(0, size - extent));
  switch (shape) {
    case Shape::Circle: cv::circle(img, o + cv::Point(extent / 2, extent / 2), extent / 2, colour, cv::FILLED); break;
    case Shape::Square: cv::rectangle(img, o, o + cv::Point(extent - 1, extent - 1), colour, cv::FILLED); break;
    case Shape::Triangle: {
      const std::vector<cv::Point> pts{o + cv::Point(extent / 2, 0), o + cv::Point(0, extent - 1),
                                       o + cv::Point(extent - 1, extent - 1)};
      cv::fillConvexPoly(img, pts, colour);
      break;
    }
  }
  return encode_png(img);
}

}  // namespace kvb::needle
