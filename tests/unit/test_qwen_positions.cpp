// Qwen2.5-VL index bookkeeping against direct transcriptions of transformers'
// modeling_qwen2_5_vl.py (get_rope_index, rot_pos_emb, get_window_index), written here with
// the same tensor operations as the Python.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <sstream>

#include "models/qwen2_5_vl/positions.h"

namespace {

using kvb::qwen::Grid;
constexpr int64_t kImage = 151655, kVideo = 151656, kStart = 151652, kEnd = 151653;

// transformers' get_rope_index for one sequence without padding (second_per_grid_t kept
// fractional, as in the versions that multiply it as a float tensor).
std::pair<at::Tensor, int64_t> hf_get_rope_index(const std::vector<int64_t>& ids, const std::vector<Grid>& images,
                                                 const std::vector<Grid>& videos, const std::vector<double>& spg,
                                                 int64_t m, double tps) {
  const at::Tensor input_ids = at::tensor(ids, at::kLong);
  const int64_t len = input_ids.size(0);
  const at::Tensor vs = at::argwhere(input_ids == kStart).squeeze(1);
  const at::Tensor vtok = input_ids.index_select(0, vs + 1);
  int64_t image_nums = (vtok == kImage).sum().item<int64_t>(), video_nums = (vtok == kVideo).sum().item<int64_t>();
  std::vector<at::Tensor> list;
  int64_t st = 0, image_index = 0, video_index = 0, remain_images = image_nums, remain_videos = video_nums;
  auto index_from = [&](int64_t tok, int64_t from) {
    for (int64_t i = from; i < len; ++i)
      if (ids[i] == tok) return i;
    ADD_FAILURE() << "token not found";
    return len;
  };
  auto has = [&](int64_t tok) { return std::find(ids.begin(), ids.end(), tok) != ids.end(); };
  for (int64_t k = 0; k < image_nums + video_nums; ++k) {
    const int64_t ed_image = has(kImage) && remain_images > 0 ? index_from(kImage, st) : len + 1;
    const int64_t ed_video = has(kVideo) && remain_videos > 0 ? index_from(kVideo, st) : len + 1;
    Grid g;
    double second_per_grid_t;
    int64_t ed;
    if (ed_image < ed_video) {
      g = images[image_index++], second_per_grid_t = 0, --remain_images, ed = ed_image;
    } else {
      g = videos[video_index], second_per_grid_t = video_index < (int64_t)spg.size() ? spg[video_index] : 1.0;
      ++video_index, --remain_videos, ed = ed_video;
    }
    const int64_t t = g.t, h = g.h / m, w = g.w / m;
    const int64_t text_len = ed - st;
    const int64_t st_idx = list.empty() ? 0 : list.back().max().item<int64_t>() + 1;
    list.push_back(at::arange(text_len, at::kLong).view({1, -1}).expand({3, -1}) + st_idx);
    const at::Tensor range = at::arange(t, at::kLong).view({-1, 1}).expand({-1, h * w});
    const at::Tensor t_index = (range.to(at::kDouble) * second_per_grid_t * tps).to(at::kLong).flatten();
    const at::Tensor h_index = at::arange(h, at::kLong).view({1, -1, 1}).expand({t, -1, w}).flatten();
    const at::Tensor w_index = at::arange(w, at::kLong).view({1, 1, -1}).expand({t, h, -1}).flatten();
    list.push_back(at::stack({t_index, h_index, w_index}) + text_len + st_idx);
    st = ed + t * h * w;
  }
  if (st < len) {
    const int64_t st_idx = list.empty() ? 0 : list.back().max().item<int64_t>() + 1;
    list.push_back(at::arange(len - st, at::kLong).view({1, -1}).expand({3, -1}) + st_idx);
  }
  const at::Tensor pos = at::cat(list, 1).reshape({3, -1});
  return {pos, pos.max().item<int64_t>() + 1 - len};
}

std::string first_mismatches(const at::Tensor& a, const at::Tensor& b) {
  std::ostringstream o;
  const at::Tensor ne = (a != b).nonzero();
  o << ne.size(0) << " mismatches; first:";
  for (int64_t i = 0; i < std::min<int64_t>(ne.size(0), 5); ++i) {
    auto idx = ne[i];
    o << " [" << idx[0].item<int64_t>() << "," << idx[1].item<int64_t>() << "] "
      << a.index({idx[0], idx[1]}).item<int64_t>() << " vs " << b.index({idx[0], idx[1]}).item<int64_t>();
  }
  return o.str();
}

// Text tokens, then per media item <|vision_start|> pads <|vision_end|> and some more text.
std::vector<int64_t> build_ids(int64_t seed, const std::vector<std::pair<bool, Grid>>& media, int64_t m) {
  std::vector<int64_t> ids;
  int64_t x = seed;
  auto text = [&](int n) {
    for (int i = 0; i < n; ++i) ids.push_back((x = (x * 1103515245 + 12345) % 150000));
  };
  text(7);
  for (const auto& [video, g] : media) {
    ids.push_back(kStart);
    ids.insert(ids.end(), g.t * g.h * g.w / (m * m), video ? kVideo : kImage);
    ids.push_back(kEnd);
    text(3 + static_cast<int>(seed % 5));
  }
  return ids;
}

void check_rope(const std::vector<std::pair<bool, Grid>>& media, const std::vector<double>& spg, double tps) {
  const int64_t m = 2;
  const auto ids = build_ids(static_cast<int64_t>(media.size()) + 11, media, m);
  std::vector<Grid> images, videos;
  for (const auto& [v, g] : media) (v ? videos : images).push_back(g);
  const auto ours = kvb::qwen::rope_index(ids, images, videos, spg, {kImage, kVideo, m, tps});
  const auto ref = hf_get_rope_index(ids, images, videos, spg, m, tps);
  ASSERT_EQ(ours.positions.sizes(), ref.first.sizes());
  EXPECT_TRUE(ours.positions.equal(ref.first)) << first_mismatches(ours.positions, ref.first);
  // Decoding continues at T + rope_delta.
  EXPECT_EQ(ours.next_position, static_cast<int64_t>(ids.size()) + ref.second);
}

TEST(QwenRopeIndex, TextOnlyIsArange) {
  std::vector<int64_t> ids(37);
  for (int64_t i = 0; i < 37; ++i) ids[i] = 1000 + i;
  const auto r = kvb::qwen::rope_index(ids, {}, {}, {}, {kImage, kVideo, 2, 2.0});
  EXPECT_TRUE(r.positions.equal(at::arange(37, at::kLong).unsqueeze(0).expand({3, 37})));
  EXPECT_EQ(r.next_position, 37);
}

TEST(QwenRopeIndex, OneImage) { check_rope({{false, {1, 34, 46}}}, {}, 2.0); }
TEST(QwenRopeIndex, TwoImagesOddGrids) { check_rope({{false, {1, 16, 6}}, {false, {1, 2, 72}}}, {}, 2.0); }
TEST(QwenRopeIndex, VideoOneSecondPerGrid) { check_rope({{true, {3, 8, 10}}}, {1.0}, 2.0); }
TEST(QwenRopeIndex, VideoFractionalSecondsPerGrid) { check_rope({{true, {4, 6, 4}}}, {0.75}, 2.0); }
TEST(QwenRopeIndex, ImageVideoImage) {
  check_rope({{false, {1, 4, 6}}, {true, {2, 6, 6}}, {false, {1, 10, 2}}}, {2.0}, 2.0);
}

TEST(QwenRopeIndex, PadCountMismatchIsAnError) {
  auto ids = build_ids(3, {{false, {1, 4, 6}}}, 2);
  ids.erase(std::find(ids.begin(), ids.end(), kImage));  // one pad short
  EXPECT_THROW(kvb::qwen::rope_index(ids, {{1, 4, 6}}, {}, {}, {kImage, kVideo, 2, 2.0}), std::exception);
}

// transformers' rot_pos_emb position ids.
at::Tensor hf_pos_ids(const std::vector<Grid>& grids, int64_t m) {
  std::vector<at::Tensor> out;
  for (const auto& g : grids) {
    const int64_t h = g.h, w = g.w;
    at::Tensor hpos = at::arange(h, at::kLong).unsqueeze(1).expand({-1, w});
    hpos = hpos.reshape({h / m, m, w / m, m}).permute({0, 2, 1, 3}).flatten();
    at::Tensor wpos = at::arange(w, at::kLong).unsqueeze(0).expand({h, -1});
    wpos = wpos.reshape({h / m, m, w / m, m}).permute({0, 2, 1, 3}).flatten();
    out.push_back(at::stack({hpos, wpos}, -1).repeat({g.t, 1}));
  }
  return at::cat(out);
}

TEST(QwenVisionPositions, MatchesRotPosEmb) {
  const std::vector<Grid> grids{{1, 34, 46}, {2, 6, 10}, {1, 2, 72}};
  const at::Tensor ours = kvb::qwen::vision_patch_positions(grids, 2), ref = hf_pos_ids(grids, 2);
  ASSERT_EQ(ours.sizes(), ref.sizes());
  EXPECT_TRUE(ours.equal(ref)) << first_mismatches(ours, ref);
}

// transformers' get_window_index.
std::pair<at::Tensor, std::vector<int64_t>> hf_window_index(const std::vector<Grid>& grids, int64_t window_size,
                                                             int64_t m, int64_t patch) {
  std::vector<at::Tensor> window_index;
  std::vector<int64_t> cu{0};
  int64_t id = 0;
  const int64_t vw = window_size / m / patch;
  for (const auto& g : grids) {
    const int64_t gh = g.h / m, gw = g.w / m;
    const at::Tensor index = at::arange(g.t * gh * gw, at::kLong).reshape({g.t, gh, gw});
    const int64_t pad_h = vw - gh % vw, pad_w = vw - gw % vw;
    const int64_t nh = (gh + pad_h) / vw, nw = (gw + pad_w) / vw;
    at::Tensor padded = at::constant_pad_nd(index, {0, pad_w, 0, pad_h}, -100);
    padded = padded.reshape({g.t, nh, vw, nw, vw}).permute({0, 1, 3, 2, 4}).reshape({g.t, nh * nw, vw, vw});
    const at::Tensor seqlens = (padded != -100).sum({2, 3}).reshape(-1);
    padded = padded.reshape(-1);
    window_index.push_back(padded.masked_select(padded != -100) + id);
    const at::Tensor cs = seqlens.cumsum(0) * (m * m) + cu.back();
    for (int64_t i = 0; i < cs.size(0); ++i) cu.push_back(cs[i].item<int64_t>());
    id += g.t * gh * gw;
  }
  std::vector<int64_t> uniq;  // torch.unique_consecutive
  for (auto v : cu)
    if (uniq.empty() || uniq.back() != v) uniq.push_back(v);
  return {at::cat(window_index), uniq};
}

TEST(QwenWindowIndex, MatchesGetWindowIndex) {
  for (const auto& grids : std::vector<std::vector<Grid>>{{{1, 34, 46}}, {{1, 16, 16}}, {{2, 6, 10}, {1, 2, 72}},
                                                          {{1, 70, 2}, {3, 18, 30}}}) {
    const auto ours = kvb::qwen::window_index(grids, 112, 2, 14);
    const auto ref = hf_window_index(grids, 112, 2, 14);
    ASSERT_EQ(ours.index.sizes(), ref.first.sizes());
    EXPECT_TRUE(ours.index.equal(ref.first)) << "first grid " << grids[0].h << "x" << grids[0].w;
    EXPECT_EQ(ours.cu_window_seqlens, ref.second);
  }
}

}  // namespace
