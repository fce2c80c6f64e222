#pragma once
// Shared by the vision parity tests: the goldens written by make_goldens.py (Pillow/numpy)
// and the synthetic images, built with the same integer formula as the script.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"

namespace kvb::vision_test {

inline const nlohmann::json& goldens() {
  static const nlohmann::json j = kvb::read_json_file(std::string(KVB_TEST_DATA) + "/parity/vision/goldens.json");
  return j;
}

// synth() of make_goldens.py: [h, w, c] uint8.
inline at::Tensor synth(int64_t h, int64_t w, int64_t channels) {
  at::Tensor t = at::empty({h, w, channels}, at::kByte);
  uint8_t* p = t.data_ptr<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < channels; ++c) {
        int64_t noise = ((x * 73856093) ^ (y * 19349663) ^ (c * 83492791)) >> 9;
        int64_t v = 7 * x + 13 * y + 71 * c + 5 * ((x * y) % 31) + noise % 64;
        *p++ = static_cast<uint8_t>(v % 256);
      }
  return t;
}

inline at::Tensor alpha(int64_t h, int64_t w) {
  at::Tensor t = at::empty({h, w, 1}, at::kByte);
  uint8_t* p = t.data_ptr<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) *p++ = static_cast<uint8_t>((x * 11 + y * 29) % 256);
  return t;
}

// make_image(kind, h, w) of the script, in its original channel layout (1, 3 or 4 channels).
inline at::Tensor make_image(const std::string& kind, int64_t h, int64_t w) {
  if (kind == "rgb") return synth(h, w, 3);
  if (kind == "grey") return synth(h, w, 1);
  return at::cat({synth(h, w, 3), alpha(h, w)}, 2);
}

inline int64_t weight(int64_t i) { return (i * 2654435761LL) % 1000003; }

// Compares an [H, W, C] uint8 tensor with summarize_u8() output; failures list the first
// mismatching rows/columns.
inline void expect_u8_summary(const at::Tensor& img, const nlohmann::json& g, const std::string& what) {
  std::vector<int64_t> shape(img.sizes().begin(), img.sizes().end());
  ASSERT_EQ(shape, g["shape"].get<std::vector<int64_t>>()) << what;
  at::Tensor t = img.contiguous();
  const uint8_t* p = t.data_ptr<uint8_t>();
  int64_t checksum = 0;
  for (int64_t i = 0; i < t.numel(); ++i) checksum += static_cast<int64_t>(p[i]) * weight(i);
  at::Tensor rows = t.to(at::kLong).sum(at::IntArrayRef{1, 2}).contiguous();
  at::Tensor cols = t.to(at::kLong).sum(at::IntArrayRef{0, 2}).contiguous();
  auto grow = g["row_sums"].get<std::vector<int64_t>>();
  auto gcol = g["col_sums"].get<std::vector<int64_t>>();
  std::ostringstream diff;
  int shown = 0;
  for (int64_t r = 0; r < rows.numel() && shown < 5; ++r)
    if (rows.data_ptr<int64_t>()[r] != grow[r])
      diff << " row " << r << ": " << rows.data_ptr<int64_t>()[r] << " vs " << grow[r] << ";", ++shown;
  for (int64_t c = 0; c < cols.numel() && shown < 10; ++c)
    if (cols.data_ptr<int64_t>()[c] != gcol[c])
      diff << " col " << c << ": " << cols.data_ptr<int64_t>()[c] << " vs " << gcol[c] << ";", ++shown;
  EXPECT_EQ(checksum, g["checksum"].get<int64_t>()) << what << " differs from Pillow;" << diff.str();
}

}  // namespace kvb::vision_test
