#include "compress/dct.h"

#include <ATen/Parallel.h>
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <tuple>

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {
namespace {

using PlanKey = std::tuple<int, int64_t, int64_t, int64_t>;

// Plans live for the whole process: they are small and FFTW's own cleanup at exit would race
// with static destructors, so they are deliberately never destroyed.
fftwf_plan plan_for(DctKind kind, int64_t b, int64_t t, int64_t c) {
  static std::mutex mu;
  static std::map<PlanKey, fftwf_plan> plans;
  std::lock_guard<std::mutex> lock(mu);
  const PlanKey key{static_cast<int>(kind), b, t, c};
  auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  const size_t n = static_cast<size_t>(b * t * c);
  auto* in = fftwf_alloc_real(n);
  auto* out = fftwf_alloc_real(n);
  fftwf_iodim dim{static_cast<int>(t), static_cast<int>(c), static_cast<int>(c)};
  fftwf_iodim many[2] = {{static_cast<int>(b), static_cast<int>(t * c), static_cast<int>(t * c)},
                         {static_cast<int>(c), 1, 1}};
  fftwf_r2r_kind k = kind == DctKind::kII ? FFTW_REDFT10 : FFTW_REDFT01;
  fftwf_plan p = fftwf_plan_guru_r2r(1, &dim, 2, many, in, out, &k, FFTW_ESTIMATE);
  fftwf_free(in);
  fftwf_free(out);
  KVB_CHECK(p != nullptr, "FFTW could not plan a DCT of {} x {} x {}", b, t, c);
  plans.emplace(key, p);
  return p;
}

// One-row plans for dct_rows, planned without alignment assumptions so any row can be executed.
fftwf_plan row_plan_for(DctKind kind, int64_t t) {
  static std::mutex mu;
  static std::map<std::pair<int, int64_t>, fftwf_plan> plans;
  std::lock_guard<std::mutex> lock(mu);
  const auto key = std::make_pair(static_cast<int>(kind), t);
  auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  auto* in = fftwf_alloc_real(static_cast<size_t>(t));
  auto* out = fftwf_alloc_real(static_cast<size_t>(t));
  const int n = static_cast<int>(t);
  fftwf_r2r_kind k = kind == DctKind::kII ? FFTW_REDFT10 : FFTW_REDFT01;
  fftwf_plan p = fftwf_plan_many_r2r(1, &n, 1, in, nullptr, 1, n, out, nullptr, 1, n, &k,
                                     FFTW_ESTIMATE | FFTW_UNALIGNED);
  fftwf_free(in);
  fftwf_free(out);
  KVB_CHECK(p != nullptr, "FFTW could not plan a DCT of length {}", t);
  plans.emplace(key, p);
  return p;
}

at::Tensor aligned_float(const at::Tensor& x) {
  auto y = x.to(at::kFloat).contiguous();
  if (fftwf_alignment_of(y.data_ptr<float>()) != 0) y = y.clone();
  return y;
}

}  // namespace

void dct_raw(const at::Tensor& in, at::Tensor& out, DctKind kind) {
  KVB_CHECK(in.dim() == 3 && in.sizes() == out.sizes() && in.scalar_type() == at::kFloat &&
                out.scalar_type() == at::kFloat && in.is_contiguous() && out.is_contiguous() &&
                in.device().is_cpu(),
            "dct_raw: needs contiguous float CPU [B, T, C] tensors of one shape, got {} and {}",
            shape_str(in), shape_str(out));
  KVB_CHECK(fftwf_alignment_of(in.data_ptr<float>()) == 0 && fftwf_alignment_of(out.data_ptr<float>()) == 0,
            "dct_raw: buffers must be SIMD-aligned");
  KVB_CHECK(in.data_ptr() != out.data_ptr(), "dct_raw: in and out must differ");
  if (in.numel() == 0) return;
  fftwf_execute_r2r(plan_for(kind, in.size(0), in.size(1), in.size(2)), in.data_ptr<float>(),
                    out.data_ptr<float>());
}

void dct_rows(const at::Tensor& in, at::Tensor& out, DctKind kind) {
  KVB_CHECK(in.dim() == 2 && in.sizes() == out.sizes() && in.scalar_type() == at::kFloat &&
                out.scalar_type() == at::kFloat && in.is_contiguous() && out.is_contiguous() &&
                in.device().is_cpu() && in.data_ptr() != out.data_ptr(),
            "dct_rows: needs distinct contiguous float CPU [N, T] tensors of one shape, got {} and {}",
            shape_str(in), shape_str(out));
  const int64_t rows = in.size(0), t = in.size(1);
  if (in.numel() == 0) return;
  const fftwf_plan p = row_plan_for(kind, t);
  float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 32768 / t), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) fftwf_execute_r2r(p, src + r * t, dst + r * t);
  });
}

at::Tensor dct_ortho(const at::Tensor& x) {
  auto in = aligned_float(x);
  auto out = at::empty_like(in);
  dct_raw(in, out, DctKind::kII);
  const double t = static_cast<double>(in.size(1));
  out.mul_(std::sqrt(0.5 / t));  // s_k / 2 with s_k = sqrt(2 / T) for k >= 1
  out.narrow(1, 0, 1).mul_(std::sqrt(0.5));  // s_0 = sqrt(1 / T)
  return out;
}

at::Tensor idct_ortho(const at::Tensor& coeffs) {
  auto in = aligned_float(coeffs).clone();
  const double t = static_cast<double>(in.size(1));
  in.mul_(std::sqrt(0.5 / t));  // FFTW's kIII doubles k >= 1 terms: feed s_k X_k / 2
  in.narrow(1, 0, 1).mul_(std::sqrt(2.0));  // and s_0 X_0 for k = 0
  auto out = at::empty_like(in);
  dct_raw(in, out, DctKind::kIII);
  return out;
}

}  // namespace kvb
