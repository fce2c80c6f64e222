#include "vision/resize.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace kvb {
namespace {

// Pillow's coefficients are computed in double and stored as fixed point with 22 fractional
// bits (32 - 8 - 2: 8 bits of pixel, 2 bits of headroom for the negative lobes).
constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic_filter(double x) {  // Keys' cubic with a = -0.5, support 2
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coeffs {
  int ksize = 0;
  std::vector<int> xmin, count;  // per output position: first input index and tap count
  std::vector<int32_t> k;        // [out, ksize] fixed-point weights
};

// precompute_coeffs + normalize_coeffs_8bpc of Pillow's Resample.c for the box [0, in_size).
Coeffs pil_coeffs(int in_size, int out_size) {
  Coeffs c;
  const float in0 = 0.0f, in1 = static_cast<float>(in_size);  // Pillow keeps the box in float
  double scale = static_cast<double>(in1 - in0) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = 2.0 * filterscale;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.xmin.resize(out_size);
  c.count.resize(out_size);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    double center = in0 + (xx + 0.5) * scale;
    double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);  // truncation, as the C cast does
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = bicubic_filter((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << kPrecisionBits))
                : static_cast<int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    c.xmin[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t v) {
  int32_t s = v >> kPrecisionBits;  // arithmetic shift = floor, as in Pillow
  return static_cast<uint8_t>(s < 0 ? 0 : (s > 255 ? 255 : s));
}

// One separable pass along `axis` of an [H, W, C] uint8 image; `rows` selects the slab of
// source rows used (Pillow only filters the rows the vertical pass will read).
void pass_horizontal(const uint8_t* in, int in_w, int channels, int row_begin, int rows,
                     const Coeffs& c, int out_w, uint8_t* out) {
  at::parallel_for(0, rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* src = in + (static_cast<int64_t>(row_begin) + r) * in_w * channels;
      uint8_t* dst = out + r * out_w * channels;
      for (int xx = 0; xx < out_w; ++xx) {
        const int32_t* k = &c.k[static_cast<size_t>(xx) * c.ksize];
        const uint8_t* p = src + static_cast<int64_t>(c.xmin[xx]) * channels;
        for (int ch = 0; ch < channels; ++ch) {
          int32_t ss = 1 << (kPrecisionBits - 1);
          for (int x = 0; x < c.count[xx]; ++x) ss += static_cast<int32_t>(p[x * channels + ch]) * k[x];
          dst[xx * channels + ch] = clip8(ss);
        }
      }
    }
  });
}

void pass_vertical(const uint8_t* in, int width, int channels, int row_offset, const Coeffs& c,
                   int out_h, uint8_t* out) {
  const int64_t row_len = static_cast<int64_t>(width) * channels;
  at::parallel_for(0, out_h, 8, [&](int64_t y0, int64_t y1) {
    std::vector<int32_t> acc(row_len);
    for (int64_t yy = y0; yy < y1; ++yy) {
      const int32_t* k = &c.k[static_cast<size_t>(yy) * c.ksize];
      std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
      for (int y = 0; y < c.count[yy]; ++y) {
        const uint8_t* src = in + (static_cast<int64_t>(c.xmin[yy]) - row_offset + y) * row_len;
        for (int64_t i = 0; i < row_len; ++i) acc[i] += static_cast<int32_t>(src[i]) * k[y];
      }
      uint8_t* dst = out + yy * row_len;
      for (int64_t i = 0; i < row_len; ++i) dst[i] = clip8(acc[i]);
    }
  });
}

void check_image(const at::Tensor& t, int64_t out_h, int64_t out_w, const char* what) {
  KVB_CHECK(t.defined() && t.dim() == 3 && t.scalar_type() == at::kByte,
            "{}: expected an [H, W, C] uint8 image, got {}", what,
            t.defined() ? t.toString() + " " + std::to_string(t.dim()) + "-d" : "undefined");
  KVB_CHECK(t.size(2) >= 1 && t.size(2) <= 4, "{}: expected 1-4 channels, got {}", what, t.size(2));
  KVB_CHECK(t.size(0) > 0 && t.size(1) > 0 && out_h > 0 && out_w > 0,
            "{}: cannot resize {}x{} to {}x{}", what, t.size(0), t.size(1), out_h, out_w);
}

}  // namespace

at::Tensor resize_bicubic_pil(const at::Tensor& hwc_u8, int64_t out_h, int64_t out_w) {
  check_image(hwc_u8, out_h, out_w, "resize_bicubic_pil");
  at::Tensor in = hwc_u8.contiguous();
  const int in_h = static_cast<int>(in.size(0)), in_w = static_cast<int>(in.size(1));
  const int ch = static_cast<int>(in.size(2));
  // Image.resize returns a copy when the size does not change.
  if (in_h == out_h && in_w == out_w) return in.clone();

  Coeffs vert = pil_coeffs(in_h, static_cast<int>(out_h));
  const int ybox_first = vert.xmin.front();
  const int ybox_last = vert.xmin.back() + vert.count.back();

  at::Tensor cur = in;
  int row_offset = 0;
  if (out_w != in_w) {
    Coeffs horiz = pil_coeffs(in_w, static_cast<int>(out_w));
    at::Tensor tmp = at::empty({ybox_last - ybox_first, out_w, ch}, at::kByte);
    pass_horizontal(in.data_ptr<uint8_t>(), in_w, ch, ybox_first, ybox_last - ybox_first, horiz,
                    static_cast<int>(out_w), tmp.data_ptr<uint8_t>());
    cur = tmp;
    row_offset = ybox_first;
  }
  if (out_h == in_h) return cur;
  at::Tensor out = at::empty({out_h, cur.size(1), ch}, at::kByte);
  pass_vertical(cur.data_ptr<uint8_t>(), static_cast<int>(cur.size(1)), ch, row_offset, vert,
                static_cast<int>(out_h), out.data_ptr<uint8_t>());
  return out;
}

at::Tensor resize_bicubic_torch_aa(const at::Tensor& hwc_u8, int64_t out_h, int64_t out_w) {
  check_image(hwc_u8, out_h, out_w, "resize_bicubic_torch_aa");
  at::Tensor x = hwc_u8.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat).contiguous();
  at::Tensor y = at::_upsample_bicubic2d_aa(x, {out_h, out_w}, /*align_corners=*/false,
                                            c10::nullopt, c10::nullopt);
  // torchvision: clamp (bicubic overshoots), then round half to even and cast back.
  y = y.clamp(0, 255).round().to(at::kByte);
  return y.squeeze(0).permute({1, 2, 0}).contiguous();
}

}  // namespace kvb
