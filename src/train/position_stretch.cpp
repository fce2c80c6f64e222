#include "train/position_stretch.h"

#include <ATen/ATen.h>

#include <random>
#include <vector>

#include "core/kv_layout.h"

namespace kvb {

at::Tensor stretch_positions(const at::Tensor& positions, const at::Tensor& modality, int64_t span, uint32_t seed) {
  const at::Tensor pos = positions.cpu();
  const at::Tensor mod_cpu = modality.cpu().to(at::kByte).contiguous();
  const uint8_t* mod = mod_cpu.data_ptr<uint8_t>();
  const int64_t n = pos.size(1), used = pos.max().item<int64_t>() + 1;
  if (used >= span || n < 2) return positions;
  std::vector<int64_t> gap_at;  // tokens a gap may open before
  for (int64_t i = 1; i < n; ++i)
    if (mod[i] == kText || mod[i - 1] != mod[i]) gap_at.push_back(i);
  if (gap_at.empty()) return positions;
  std::mt19937 rng(seed);
  const auto extra = static_cast<int64_t>(rng() % static_cast<uint64_t>(span - used + 1));
  // A few wide gaps rather than many narrow ones (see the header).
  std::vector<size_t> cuts(1 + rng() % 8);
  for (auto& c : cuts) c = static_cast<size_t>(gap_at[rng() % gap_at.size()]);
  std::vector<int64_t> offset(static_cast<size_t>(n), 0);
  for (int64_t k = 0; k < extra; ++k) ++offset[cuts[rng() % cuts.size()]];
  for (size_t i = 1; i < offset.size(); ++i) offset[i] += offset[i - 1];
  return (pos + at::tensor(offset, at::kLong).unsqueeze(0)).to(positions.device());
}

}  // namespace kvb
