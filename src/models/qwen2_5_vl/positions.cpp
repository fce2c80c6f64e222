#include "models/qwen2_5_vl/positions.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace kvb::qwen {

RopeIndex rope_index(const std::vector<int64_t>& ids, const std::vector<Grid>& images,
                     const std::vector<Grid>& videos, const std::vector<double>& second_per_grid,
                     const RopeTokens& tk) {
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t m = tk.spatial_merge_size;
  at::Tensor pos = at::empty({3, n}, at::kLong);
  auto p = pos.accessor<int64_t, 2>();
  int64_t next = 0;  // first position of whatever comes next
  size_t image = 0, video = 0;
  int64_t i = 0;
  while (i < n) {
    const bool is_image = ids[i] == tk.image_token_id, is_video = ids[i] == tk.video_token_id;
    if (!is_image && !is_video) {
      for (int a = 0; a < 3; ++a) p[a][i] = next;
      ++next, ++i;
      continue;
    }
    KVB_CHECK(is_image ? image < images.size() : video < videos.size(),
              "prompt has more {} blocks than {} given", is_image ? "image" : "video",
              is_image ? "images" : "videos");
    const Grid g = is_image ? images[image] : videos[video];
    // Images have no time axis; a video's temporal index is scaled to absolute time.
    const double step = is_image ? 0.0 : (video < second_per_grid.size() ? second_per_grid[video] : 1.0) * tk.tokens_per_second;
    is_image ? ++image : ++video;
    const int64_t gh = g.h / m, gw = g.w / m, len = g.t * gh * gw;
    KVB_CHECK(i + len <= n, "a media block at token {} needs {} pad tokens, the prompt has {} left", i, len, n - i);
    int64_t top = next;
    for (int64_t t = 0; t < g.t; ++t)
      for (int64_t y = 0; y < gh; ++y)
        for (int64_t x = 0; x < gw; ++x, ++i) {
          KVB_CHECK(ids[i] == (is_image ? tk.image_token_id : tk.video_token_id),
                    "media block at token {} is shorter than its grid", i);
          const int64_t tt = static_cast<int64_t>(static_cast<double>(t) * step);
          p[0][i] = next + tt, p[1][i] = next + y, p[2][i] = next + x;
          top = std::max({top, p[0][i], p[1][i], p[2][i]});
        }
    next = top + 1;
  }
  KVB_CHECK(image == images.size() && video == videos.size(),
            "{} images and {} videos given, the prompt has {} and {} media blocks", images.size(), videos.size(), image,
            video);
  return {pos, next};
}

at::Tensor vision_patch_positions(const std::vector<Grid>& grids, int64_t m) {
  int64_t total = 0;
  for (const auto& g : grids) total += g.t * g.h * g.w;
  at::Tensor out = at::empty({total, 2}, at::kLong);
  auto o = out.accessor<int64_t, 2>();
  int64_t r = 0;
  for (const auto& g : grids)
    for (int64_t t = 0; t < g.t; ++t)
      // Patches arrive merge block by merge block: (block row, block col, row in block, col in block).
      for (int64_t by = 0; by < g.h / m; ++by)
        for (int64_t bx = 0; bx < g.w / m; ++bx)
          for (int64_t iy = 0; iy < m; ++iy)
            for (int64_t ix = 0; ix < m; ++ix, ++r) o[r][0] = by * m + iy, o[r][1] = bx * m + ix;
  return out;
}

WindowIndex window_index(const std::vector<Grid>& grids, int64_t window_size, int64_t m, int64_t patch) {
  const int64_t win = window_size / m / patch;  // window side in merged units
  std::vector<int64_t> index;
  std::vector<int64_t> cu{0};
  int64_t base = 0;
  for (const auto& g : grids) {
    const int64_t gh = g.h / m, gw = g.w / m;
    // Windows tile the grid from the top-left; edge windows are cut short.
    const int64_t nwy = (gh + win - 1) / win + (gh % win == 0 ? 1 : 0);
    const int64_t nwx = (gw + win - 1) / win + (gw % win == 0 ? 1 : 0);
    for (int64_t t = 0; t < g.t; ++t)
      for (int64_t wy = 0; wy < nwy; ++wy)
        for (int64_t wx = 0; wx < nwx; ++wx) {
          int64_t count = 0;
          for (int64_t y = wy * win; y < std::min(gh, (wy + 1) * win); ++y)
            for (int64_t x = wx * win; x < std::min(gw, (wx + 1) * win); ++x, ++count)
              index.push_back(base + (t * gh + y) * gw + x);
          const int64_t next = cu.back() + count * m * m;
          if (next != cu.back()) cu.push_back(next);  // empty windows (full padding) add nothing
        }
    base += g.t * gh * gw;
  }
  return {at::tensor(index, at::kLong), cu};
}

std::vector<int64_t> frame_seqlens(const std::vector<Grid>& grids) {
  std::vector<int64_t> cu{0};
  for (const auto& g : grids)
    for (int64_t t = 0; t < g.t; ++t) cu.push_back(cu.back() + g.h * g.w);
  return cu;
}

}  // namespace kvb::qwen
