#include "models/llava_onevision/pack.h"

#include "core/error.h"

namespace kvb::llava_onevision {

at::Tensor pack_image(const at::Tensor& feats, const AnyresLayout& L, const at::Tensor& newline) {
  const int64_t pps = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(feats.size(1)))));
  const int64_t H = feats.size(2);
  KVB_CHECK(feats.size(0) == 1 + L.grid_h * L.grid_w && pps * pps == feats.size(1),
            "pack_image: {} feature tiles of {} tokens for a {}x{} grid", feats.size(0), feats.size(1), L.grid_h,
            L.grid_w);
  // [gh, gw, pps, pps, H] -> [H, gh*pps, gw*pps]: rows of tiles, each tile's rows in order.
  at::Tensor grid = feats.narrow(0, 1, feats.size(0) - 1)
                        .view({L.grid_h, L.grid_w, pps, pps, H})
                        .permute({4, 0, 2, 1, 3})
                        .contiguous()
                        .flatten(1, 2)
                        .flatten(2, 3);
  grid = grid.narrow(1, L.top, L.rows).narrow(2, L.left, L.cols);
  if (L.pooled)
    grid = at::upsample_bilinear2d(grid.unsqueeze(0), {L.out_rows, L.out_cols}, false, c10::nullopt, c10::nullopt)[0];
  const at::Tensor nl = newline.to(grid.scalar_type()).view({H, 1, 1}).expand({H, grid.size(1), 1});
  const at::Tensor rows = at::cat({grid, nl}, -1).flatten(1, 2).transpose(0, 1);  // [rows * (cols + 1), H]
  return at::cat({feats[0], rows}, 0);
}

at::Tensor pack_video(const at::Tensor& feats, int64_t pps, const at::Tensor& newline) {
  const int64_t F = feats.size(0), H = feats.size(2), s = (pps + 1) / 2;
  const at::Tensor grid = feats.view({F, pps, pps, H}).permute({0, 3, 1, 2}).contiguous();
  const at::Tensor pooled = at::upsample_bilinear2d(grid, {s, s}, false, c10::nullopt, c10::nullopt);
  const at::Tensor frames = pooled.permute({0, 2, 3, 1}).reshape({F * s * s, H});
  return at::cat({frames, newline.to(frames.scalar_type()).view({1, H})}, 0);
}

}  // namespace kvb::llava_onevision
