#include "models/qwen2_5_vl/vision_tower.h"

#include <cmath>
#include <map>

#include "core/error.h"
#include "models/ops.h"

namespace kvb::qwen {

at::Tensor segment_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const std::vector<int64_t>& cu) {
  const int64_t heads = q.size(0), n = q.size(1), d = q.size(2);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::map<int64_t, std::vector<int64_t>> by_length;  // length -> segment starts
  for (size_t i = 0; i + 1 < cu.size(); ++i)
    if (cu[i + 1] > cu[i]) by_length[cu[i + 1] - cu[i]].push_back(cu[i]);
  at::Tensor out = at::empty({n, heads, d}, q.options());
  for (const auto& [len, starts] : by_length) {
    const at::Tensor idx =
        (at::tensor(starts, at::kLong).unsqueeze(1) + at::arange(len, at::kLong).unsqueeze(0)).to(q.device());
    const at::Tensor flat = idx.reshape({-1});
    auto gather = [&](const at::Tensor& x) {  // [heads, S*len, d] -> [S, heads, len, d]
      return x.index_select(1, flat).view({heads, static_cast<int64_t>(starts.size()), len, d}).transpose(0, 1);
    };
    const at::Tensor qs = gather(q), ks = gather(k), vs = gather(v);
    const at::Tensor p = at::softmax((at::matmul(qs, ks.transpose(-1, -2)) * scale).to(at::kFloat), -1).to(q.scalar_type());
    const at::Tensor o = at::matmul(p, vs);  // [S, heads, len, d]
    out.index_copy_(0, flat, o.permute({0, 2, 1, 3}).reshape({-1, heads, d}));
  }
  return out.view({n, heads * d});
}

at::Tensor vision_forward(const Weights& w, const VisionConfig& c, const at::Tensor& pixel_values,
                          const std::vector<Grid>& grids) {
  const int64_t m = c.spatial_merge_size, unit = m * m, E = c.hidden_size, heads = c.num_heads;
  const int64_t hd = c.head_dim();
  int64_t n = 0;
  for (const auto& g : grids) n += g.t * g.h * g.w;
  KVB_CHECK(pixel_values.dim() == 2 && pixel_values.size(0) == n && pixel_values.size(1) == w.patch_w.size(1),
            "vision tower: pixel_values has shape [{}, {}], expected [{}, {}]", pixel_values.size(0),
            pixel_values.dim() > 1 ? pixel_values.size(1) : 0, n, w.patch_w.size(1));
  const auto opts = w.patch_w.options();
  at::Tensor x = at::matmul(pixel_values.to(opts), w.patch_w.t());  // [N, E]

  // 2-D rotary: the first half of each head's rotary dims follows the row, the second the column.
  const int64_t rd = hd / 2;  // rotary table width per position axis pair
  const at::Tensor inv_freq =
      1.0 / at::pow(10000.0, at::arange(0, rd, 2, at::kLong).to(at::kFloat) / static_cast<double>(rd));
  const at::Tensor pos = vision_patch_positions(grids, m).to(at::kFloat);  // [N, 2]
  at::Tensor freqs = at::cat({at::outer(pos.select(1, 0), inv_freq), at::outer(pos.select(1, 1), inv_freq)}, 1);

  const WindowIndex wi = window_index(grids, c.window_size, m, c.patch_size);
  const at::Tensor widx = wi.index.to(x.device());
  x = x.view({n / unit, unit, E}).index_select(0, widx).view({n, E});
  freqs = freqs.view({n / unit, unit, -1}).index_select(0, wi.index).view({n, -1});
  const at::Tensor emb = at::cat({freqs, freqs}, -1).to(x.device());  // [N, hd]
  const at::Tensor cos = emb.cos().unsqueeze(0), sin = emb.sin().unsqueeze(0);
  const std::vector<int64_t> frames = frame_seqlens(grids);

  for (int64_t b = 0; b < c.depth; ++b) {
    const VisionBlock& blk = w.blocks[b];
    bool full = false;
    for (auto f : c.fullatt_block_indexes) full |= f == b;
    const at::Tensor h = rms_norm(x, blk.norm1, 1e-6);
    const at::Tensor qkv = at::linear(h, blk.qkv_w, blk.qkv_b).view({n, 3, heads, hd}).permute({1, 2, 0, 3});
    // RoPE in float32, as transformers' apply_rotary_pos_emb_vision.
    const at::Tensor q = apply_rotary(qkv[0].to(at::kFloat), cos, sin).to(x.scalar_type());
    const at::Tensor k = apply_rotary(qkv[1].to(at::kFloat), cos, sin).to(x.scalar_type());
    const at::Tensor a = segment_attention(q, k, qkv[2], full ? frames : wi.cu_window_seqlens);
    x = x + at::linear(a, blk.proj_w, blk.proj_b);
    x = x + at::linear(silu_gate(at::linear(rms_norm(x, blk.norm2, 1e-6), blk.gate_up_w, blk.gate_up_b)), blk.down_w,
                       blk.down_b);
  }
  at::Tensor merged = rms_norm(x, w.merger_norm, 1e-6).view({n / unit, unit * E});
  merged = at::linear(at::gelu(at::linear(merged, w.merger_fc1_w, w.merger_fc1_b)), w.merger_fc2_w, w.merger_fc2_b);
  return merged.index_select(0, at::argsort(widx));
}

}  // namespace kvb::qwen
