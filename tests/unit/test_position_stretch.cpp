// train/position_stretch: the positions of a short training sample spread over a longer span,
// image grids kept whole and at most 8 gaps, checked against the layout's own rules on a sequence laid
// out as Qwen2.5-VL's M-RoPE lays it out (text t = h = w; an image's tokens on its t/h/w grid).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "core/kv_layout.h"
#include "train/position_stretch.h"

namespace {

struct Laid {
  at::Tensor positions, modality;
};

// 13 text tokens, a 3 x 5 image, 9 text tokens, a 1 x 1 image, 5 text tokens.
Laid qwen_layout() {
  std::vector<int64_t> t, h, w;
  std::vector<uint8_t> mod;
  int64_t next = 0;
  auto text = [&](int n) {
    for (int i = 0; i < n; ++i) t.push_back(next), h.push_back(next), w.push_back(next), mod.push_back(kvb::kText), ++next;
  };
  auto image = [&](int rows, int cols) {
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) t.push_back(next), h.push_back(next + r), w.push_back(next + c), mod.push_back(kvb::kImage);
    next += std::max(rows, cols);
  };
  text(13), image(3, 5), text(9), image(1, 1), text(5);
  return {at::stack({at::tensor(t), at::tensor(h), at::tensor(w)}), at::tensor(mod).to(at::kByte)};
}

}  // namespace

TEST(PositionStretch, KeepsImageGridsAndReachesTheSpan) {
  const Laid s = qwen_layout();
  const int64_t n = s.positions.size(1), span = 501, last0 = s.positions.max().item<int64_t>();
  const uint8_t* mod = s.modality.data_ptr<uint8_t>();
  int64_t lowest = span, highest = 0;
  for (uint32_t seed = 0; seed < 300; ++seed) {
    const at::Tensor p = kvb::stretch_positions(s.positions, s.modality, span, seed);
    ASSERT_EQ(p.sizes(), s.positions.sizes());
    ASSERT_TRUE(p.equal(kvb::stretch_positions(s.positions, s.modality, span, seed))) << "seed " << seed;
    const int64_t last = p.max().item<int64_t>();
    ASSERT_GE(last, last0);
    ASSERT_LT(last, span) << "seed " << seed;
    lowest = std::min(lowest, last), highest = std::max(highest, last);
    // Every token moves by the same amount on its three axes, never back, and only before a text
    // token or at an image's first token; at most 8 such gaps.
    const at::Tensor shift = p - s.positions;
    ASSERT_TRUE(shift[0].equal(shift[1]) && shift[0].equal(shift[2])) << "seed " << seed;
    const int64_t* d = shift[0].contiguous().data_ptr<int64_t>();
    int gaps = 0;
    for (int64_t i = 1; i < n; ++i) {
      ASSERT_GE(d[i], d[i - 1]) << "seed " << seed << " token " << i;
      if (d[i] == d[i - 1]) continue;
      ++gaps;
      EXPECT_FALSE(mod[i] == kvb::kImage && mod[i - 1] == kvb::kImage) << "a gap inside an image: seed " << seed << " token " << i;
    }
    EXPECT_EQ(d[0], 0);
    EXPECT_LE(gaps, 8) << "seed " << seed;
  }
  // The span is drawn across its whole range.
  EXPECT_LT(lowest, last0 + 25);
  EXPECT_GT(highest, span - 25);
}

TEST(PositionStretch, LeavesASequenceThatAlreadyFillsTheSpan) {
  const Laid s = qwen_layout();
  const int64_t last0 = s.positions.max().item<int64_t>();
  EXPECT_TRUE(kvb::stretch_positions(s.positions, s.modality, last0 + 1, 7).equal(s.positions));
  EXPECT_TRUE(kvb::stretch_positions(s.positions, s.modality, 10, 7).equal(s.positions));
}
