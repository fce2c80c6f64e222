#include "compress/dct.h"

#include <ATen/Parallel.h>
#include <fftw3.h>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {
namespace {

// FFTW's planner (and its wisdom) is not thread-safe: every plan, import and export happens
// under this one lock. Executing a finished plan is thread-safe.
std::mutex& planner_mutex() {
  static std::mutex mu;
  return mu;
}

// Wisdom: imported once before the first plan, exported (write then rename) after each plan
// that had to measure. Failures to read or write only cost measuring again.
void import_wisdom_locked() {
  static bool done = false;
  if (done) return;
  done = true;
  const std::string path = fftw_wisdom_path();
  if (!path.empty() && std::filesystem::exists(path) && !fftwf_import_wisdom_from_filename(path.c_str()))
    spdlog::debug("FFTW wisdom {} unreadable; planning afresh", path);
}

void export_wisdom_locked() {
  const std::string path = fftw_wisdom_path();
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp" + std::to_string(static_cast<long>(::getpid()));
  if (fftwf_export_wisdom_to_filename(tmp.c_str())) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) std::filesystem::remove(tmp, ec);
  }
}

using PlanKey = std::tuple<int, int64_t, int64_t, int64_t>;

// Plans live for the whole process: they are small and FFTW's own cleanup at exit would race
// with static destructors, so they are deliberately never destroyed.
fftwf_plan plan_for(DctKind kind, int64_t b, int64_t t, int64_t c) {
  static std::map<PlanKey, fftwf_plan> plans;
  std::lock_guard<std::mutex> lock(planner_mutex());
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

// Rows per FFTW call: about 128 KB of input per block (L2-sized), at most 256 rows.
int64_t block_rows(int64_t t) { return std::clamp<int64_t>((int64_t(1) << 15) / std::max<int64_t>(t, 1), 1, 256); }

// One (algorithm, kind, T, rows) plan, FFTW_MEASURE. REDFT plans are unaligned single-stride
// r2r over `rows` contiguous rows of the caller's memory; Makhoul plans are r2c / c2r over
// `rows` rows of the per-thread aligned scratch (real rows of T, complex rows of T/2 + 1).
struct RowPlan {
  fftwf_plan plan = nullptr;
  std::vector<float> cos_, sin_;  // Makhoul: cos / sin(pi k / 2T), k = 0..T/2
};

const RowPlan& row_plan(DctAlgo algo, DctKind kind, int64_t t, int64_t rows) {
  static std::map<std::tuple<int, int, int64_t, int64_t>, RowPlan> plans;
  std::lock_guard<std::mutex> lock(planner_mutex());
  const auto key = std::make_tuple(static_cast<int>(algo), static_cast<int>(kind), t, rows);
  auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  import_wisdom_locked();
  const int n = static_cast<int>(t), hn = n / 2 + 1, howmany = static_cast<int>(rows);
  const size_t reals = static_cast<size_t>(rows * t), cplx = static_cast<size_t>(rows * hn);
  RowPlan rp;
  const size_t wisdom_before = [] {
    char* w = fftwf_export_wisdom_to_string();
    const size_t len = w ? std::strlen(w) : 0;
    std::free(w);
    return len;
  }();
  if (algo == DctAlgo::kRedft) {
    auto* in = fftwf_alloc_real(reals);
    auto* out = fftwf_alloc_real(reals);
    fftwf_r2r_kind k = kind == DctKind::kII ? FFTW_REDFT10 : FFTW_REDFT01;
    rp.plan = fftwf_plan_many_r2r(1, &n, howmany, in, nullptr, 1, n, out, nullptr, 1, n, &k,
                                  FFTW_MEASURE | FFTW_UNALIGNED);
    fftwf_free(in);
    fftwf_free(out);
  } else {
    auto* re = fftwf_alloc_real(reals);
    auto* co = fftwf_alloc_complex(cplx);
    rp.plan = kind == DctKind::kII
                  ? fftwf_plan_many_dft_r2c(1, &n, howmany, re, nullptr, 1, n, co, nullptr, 1, hn, FFTW_MEASURE)
                  : fftwf_plan_many_dft_c2r(1, &n, howmany, co, nullptr, 1, hn, re, nullptr, 1, n,
                                            FFTW_MEASURE | FFTW_DESTROY_INPUT);
    fftwf_free(re);
    fftwf_free(co);
    rp.cos_.resize(hn);
    rp.sin_.resize(hn);
    for (int k = 0; k < hn; ++k) {
      const double a = M_PI * k / (2.0 * n);
      rp.cos_[k] = static_cast<float>(std::cos(a));
      rp.sin_[k] = static_cast<float>(std::sin(a));
    }
  }
  KVB_CHECK(rp.plan != nullptr, "FFTW could not plan a DCT of length {} ({} rows)", t, rows);
  char* w = fftwf_export_wisdom_to_string();
  const bool grew = w && std::strlen(w) != wisdom_before;
  std::free(w);
  if (grew) export_wisdom_locked();
  return plans.emplace(key, std::move(rp)).first->second;
}

// kLegacy: the single-row FFTW_ESTIMATE plan the code used before Makhoul and MEASURE.
fftwf_plan legacy_plan(DctKind kind, int64_t t) {
  static std::map<std::pair<int, int64_t>, fftwf_plan> plans;
  std::lock_guard<std::mutex> lock(planner_mutex());
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

// Per-thread FFTW-aligned scratch for Makhoul blocks.
struct Scratch {
  float* re = nullptr;
  fftwf_complex* co = nullptr;
  size_t reals = 0, cplx = 0;
  std::vector<float> acc;  // highpass_sumsq: squares summed over a block's rows, in FFT order
  ~Scratch() {
    fftwf_free(re);
    fftwf_free(co);
  }
  void reserve(size_t r, size_t c) {
    if (r > reals) {
      fftwf_free(re);
      re = fftwf_alloc_real(r);
      reals = r;
    }
    if (c > cplx) {
      fftwf_free(co);
      co = fftwf_alloc_complex(c);
      cplx = c;
    }
    KVB_CHECK(re != nullptr && co != nullptr, "out of memory for DCT scratch");
  }
};

Scratch& thread_scratch() {
  thread_local Scratch s;
  return s;
}

// `rows` rows of length t at src -> dst through Makhoul's algorithm.
void makhoul_block(const RowPlan& rp, DctKind kind, int64_t t, int64_t rows, const float* src, float* dst) {
  Scratch& s = thread_scratch();
  const int64_t hn = t / 2 + 1, even = (t + 1) / 2;
  s.reserve(static_cast<size_t>(rows * t), static_cast<size_t>(rows * hn));
  const float* c = rp.cos_.data();
  const float* sn = rp.sin_.data();
  if (kind == DctKind::kII) {
    // v = (x_0, x_2, ..., x_3, x_1); V = rfft(v); W_k = e^{-i pi k / 2T} V_k;
    // Y_k = 2 Re W_k (k <= T/2), Y_{T-k} = -2 Im W_k (0 < k < T - T/2).
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = src + r * t;
      float* v = s.re + r * t;
      for (int64_t k = 0; k < even; ++k) v[k] = x[2 * k];
      for (int64_t k = 0; k < t / 2; ++k) v[t - 1 - k] = x[2 * k + 1];
    }
    fftwf_execute_dft_r2c(rp.plan, s.re, s.co);
    for (int64_t r = 0; r < rows; ++r) {
      const fftwf_complex* V = s.co + r * hn;
      float* y = dst + r * t;
      for (int64_t k = 0; k < hn; ++k) y[k] = 2.0f * (c[k] * V[k][0] + sn[k] * V[k][1]);
      for (int64_t k = 1; k < t - t / 2; ++k) y[t - k] = 2.0f * (sn[k] * V[k][0] - c[k] * V[k][1]);
    }
  } else {
    // Z_k = (X_k - i X_{T-k}) e^{i pi k / 2T} (X_T = 0) is Hermitian, so u = c2r(Z) is real;
    // y_{2m} = u_m, y_{2m+1} = u_{T-1-m}.
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = src + r * t;
      fftwf_complex* Z = s.co + r * hn;
      Z[0][0] = x[0];
      Z[0][1] = 0.0f;
      for (int64_t k = 1; k < hn; ++k) {
        const float p = x[k], q = x[t - k];
        Z[k][0] = p * c[k] + q * sn[k];
        Z[k][1] = p * sn[k] - q * c[k];
      }
    }
    fftwf_execute_dft_c2r(rp.plan, s.co, s.re);
    for (int64_t r = 0; r < rows; ++r) {
      const float* u = s.re + r * t;
      float* y = dst + r * t;
      for (int64_t m = 0; m < even; ++m) y[2 * m] = u[m];
      for (int64_t m = 0; m < t / 2; ++m) y[2 * m + 1] = u[t - 1 - m];
    }
  }
}

// `rows` columns of one head (src[tok * stride + r]) -> out[t] = sum_r residual_r[t]^2 (see
// highpass_sumsq). Same reordering and twiddles as makhoul_block, with the DCT-II's output
// Y_k = 2 Re W_k, Y_{T-k} = -2 Im W_k (W_k = e^{-i pi k / 2T} V_k) masked and fed straight into
// the DCT-III's Z_k = (X_k - i X_{T-k}) e^{i pi k / 2T}: both depend on V_k alone.
void highpass_block(const RowPlan& fwd, const RowPlan& inv, int64_t t, int64_t rows, int64_t omega,
                    const float* src, int64_t stride, float* out) {
  Scratch& s = thread_scratch();
  const int64_t hn = t / 2 + 1, even = (t + 1) / 2;
  s.reserve(static_cast<size_t>(rows * t), static_cast<size_t>(rows * hn));
  // Tiles of 16 tokens: each row gets a cache line of writes while the tile's 16 source lines
  // stay in L1 (token by token, `rows` write streams a power of two apart fight over L1 sets;
  // row by row, the strided reads fall out of cache for long T).
  constexpr int64_t kTile = 16;
  for (int64_t k0 = 0; k0 < even; k0 += kTile)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = k0, k1 = std::min(even, k0 + kTile); k < k1; ++k) s.re[r * t + k] = src[2 * k * stride + r];
  for (int64_t k0 = 0; k0 < t / 2; k0 += kTile)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = k0, k1 = std::min(t / 2, k0 + kTile); k < k1; ++k)
        s.re[r * t + t - 1 - k] = src[(2 * k + 1) * stride + r];
  fftwf_execute_dft_r2c(fwd.plan, s.re, s.co);
  const float* c = fwd.cos_.data();
  const float* sn = fwd.sin_.data();
  for (int64_t r = 0; r < rows; ++r) {
    fftwf_complex* z = s.co + r * hn;
    z[0][0] = omega <= 0 ? 2.0f * z[0][0] : 0.0f;
    z[0][1] = 0.0f;
    for (int64_t k = 1; k < hn; ++k) {
      const float a = 2.0f * (c[k] * z[k][0] + sn[k] * z[k][1]);   // Y_k
      const float b = 2.0f * (sn[k] * z[k][0] - c[k] * z[k][1]);   // Y_{T-k}
      const float p = k >= omega ? a : 0.0f;
      const float q = 2 * k == t ? p : (t - k >= omega ? b : 0.0f);  // k = T/2: X_{T-k} is X_k
      z[k][0] = p * c[k] + q * sn[k];
      z[k][1] = p * sn[k] - q * c[k];
    }
  }
  fftwf_execute_dft_c2r(inv.plan, s.co, s.re);
  s.acc.assign(static_cast<size_t>(t), 0.0f);
  float* acc = s.acc.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float* u = s.re + r * t;
    for (int64_t m = 0; m < t; ++m) acc[m] += u[m] * u[m];
  }
  // y_{2m} = u_m, y_{2m+1} = u_{T-1-m}
  for (int64_t m = 0; m < even; ++m) out[2 * m] = acc[m];
  for (int64_t m = 0; m < t / 2; ++m) out[2 * m + 1] = acc[t - 1 - m];
}

void run_rows(DctAlgo algo, DctKind kind, int64_t t, int64_t nrows, const float* src, float* dst, bool parallel) {
  if (algo == DctAlgo::kLegacy) {
    const fftwf_plan p = legacy_plan(kind, t);
    at::parallel_for(0, nrows, std::max<int64_t>(1, 32768 / t), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) fftwf_execute_r2r(p, const_cast<float*>(src + r * t), dst + r * t);
    });
    return;
  }
  const int64_t per = std::min(block_rows(t), nrows);
  const int64_t blocks = nrows / per, rest = nrows - blocks * per;
  const RowPlan& full = row_plan(algo, kind, t, per);
  const RowPlan* one = rest > 0 ? &row_plan(algo, kind, t, 1) : nullptr;
  auto block = [&](int64_t i) {
    const bool tail = i >= blocks;
    const int64_t r0 = tail ? blocks * per + (i - blocks) : i * per, n = tail ? 1 : per;
    const RowPlan& rp = tail ? *one : full;
    if (algo == DctAlgo::kRedft)
      fftwf_execute_r2r(rp.plan, const_cast<float*>(src + r0 * t), dst + r0 * t);
    else
      makhoul_block(rp, kind, t, n, src + r0 * t, dst + r0 * t);
  };
  const int64_t units = blocks + rest;
  if (!parallel) {
    for (int64_t i = 0; i < units; ++i) block(i);
    return;
  }
  at::parallel_for(0, units, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) block(i);
  });
}

// Times both algorithms once (best of a few single-threaded runs over one block-sized batch
// of random rows) and keeps the faster per (kind, T).
DctAlgo choose(DctKind kind, int64_t t) {
  static std::mutex mu;
  static std::map<std::pair<int, int64_t>, DctAlgo> chosen;
  std::lock_guard<std::mutex> lock(mu);
  const auto key = std::make_pair(static_cast<int>(kind), t);
  auto it = chosen.find(key);
  if (it != chosen.end()) return it->second;
  const int64_t rows = std::max<int64_t>(block_rows(t), std::min<int64_t>(64, (int64_t(1) << 20) / t));
  std::vector<float> x(static_cast<size_t>(rows * t)), y(x.size());
  uint32_t state = 12345;
  for (auto& v : x) v = static_cast<float>((state = state * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
  double best[2] = {1e300, 1e300};
  const DctAlgo algos[2] = {DctAlgo::kRedft, DctAlgo::kMakhoul};
  for (int a = 0; a < 2; ++a) run_rows(algos[a], kind, t, rows, x.data(), y.data(), false);  // plans
  for (int rep = 0; rep < 5; ++rep)
    for (int a = 0; a < 2; ++a) {
      const auto t0 = std::chrono::steady_clock::now();
      run_rows(algos[a], kind, t, rows, x.data(), y.data(), false);
      best[a] = std::min(best[a], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  const DctAlgo pick = best[1] < best[0] ? DctAlgo::kMakhoul : DctAlgo::kRedft;
  spdlog::debug("DCT-{} T={}: REDFT {:.3f} ms, Makhoul {:.3f} ms per {} rows -> {}",
                kind == DctKind::kII ? "II" : "III", t, best[0] * 1e3, best[1] * 1e3, rows, dct_algo_name(pick));
  chosen.emplace(key, pick);
  return pick;
}

at::Tensor aligned_float(const at::Tensor& x) {
  auto y = x.to(at::kFloat).contiguous();
  if (fftwf_alignment_of(y.data_ptr<float>()) != 0) y = y.clone();
  return y;
}

}  // namespace

std::string fftw_wisdom_path() {
  if (const char* p = std::getenv("KVB_FFTW_WISDOM")) {
    const std::string s = p;
    return s == "off" ? std::string() : s;
  }
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/kvbench/fftw-wisdom";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/kvbench/fftw-wisdom";
  return {};
}

std::string dct_algo_name(DctAlgo algo) {
  switch (algo) {
    case DctAlgo::kRedft: return "redft";
    case DctAlgo::kMakhoul: return "makhoul";
    case DctAlgo::kLegacy: return "legacy";
    default: return "auto";
  }
}

DctAlgo dct_rows_choice(DctKind kind, int64_t t) {
  KVB_CHECK(t >= 1, "dct_rows_choice: length {} < 1", t);
  if (const char* f = std::getenv("KVB_DCT_ALGO")) {
    const std::string s = f;
    if (s == "redft") return DctAlgo::kRedft;
    if (s == "makhoul") return DctAlgo::kMakhoul;
    if (s == "legacy") return DctAlgo::kLegacy;
  }
  return choose(kind, t);
}

bool dct_fused() { return std::getenv("KVB_DCT_ALGO") == nullptr; }

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

void dct_rows(const at::Tensor& in, at::Tensor& out, DctKind kind, DctAlgo algo) {
  KVB_CHECK(in.dim() == 2 && in.sizes() == out.sizes() && in.scalar_type() == at::kFloat &&
                out.scalar_type() == at::kFloat && in.is_contiguous() && out.is_contiguous() &&
                in.device().is_cpu() && in.data_ptr() != out.data_ptr(),
            "dct_rows: needs distinct contiguous float CPU [N, T] tensors of one shape, got {} and {}",
            shape_str(in), shape_str(out));
  const int64_t rows = in.size(0), t = in.size(1);
  if (in.numel() == 0) return;
  if (algo == DctAlgo::kAuto) algo = dct_rows_choice(kind, t);
  run_rows(algo, kind, t, rows, in.data_ptr<float>(), out.data_ptr<float>(), true);
}

void highpass_sumsq(const at::Tensor& x, int64_t omega, at::Tensor& sumsq) {
  KVB_CHECK(x.dim() == 3 && x.scalar_type() == at::kFloat && x.is_contiguous() && x.device().is_cpu() &&
                sumsq.dim() == 2 && sumsq.size(0) == x.size(0) && sumsq.size(1) == x.size(1) &&
                sumsq.scalar_type() == at::kFloat && sumsq.is_contiguous() && sumsq.device().is_cpu(),
            "highpass_sumsq: needs contiguous float CPU [H, T, D] and [H, T], got {} and {}", shape_str(x),
            shape_str(sumsq));
  const int64_t h = x.size(0), t = x.size(1), d = x.size(2);
  KVB_CHECK(omega >= 0 && omega <= t, "highpass_sumsq: cut-off {} outside [0, {}]", omega, t);
  if (x.numel() == 0) return;
  // Columns per block: the same ~128 KB of scratch per block that dct_rows uses.
  const int64_t cols = std::min(d, block_rows(t)), per_head = (d + cols - 1) / cols, tail = d - (per_head - 1) * cols;
  const RowPlan& fwd = row_plan(DctAlgo::kMakhoul, DctKind::kII, t, cols);
  const RowPlan& inv = row_plan(DctAlgo::kMakhoul, DctKind::kIII, t, cols);
  const RowPlan& fwd_tail = row_plan(DctAlgo::kMakhoul, DctKind::kII, t, tail);
  const RowPlan& inv_tail = row_plan(DctAlgo::kMakhoul, DctKind::kIII, t, tail);
  // One row of partial sums per block, so blocks of one head never write the same memory.
  at::Tensor part = at::empty({h * per_head, t}, at::kFloat);
  const float* src = x.data_ptr<float>();
  float* dst = part.data_ptr<float>();
  at::parallel_for(0, h * per_head, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t head = i / per_head, blk = i % per_head, n = blk + 1 == per_head ? tail : cols;
      highpass_block(n == cols ? fwd : fwd_tail, n == cols ? inv : inv_tail, t, n, omega,
                     src + head * t * d + blk * cols, d, dst + i * t);
    }
  });
  sumsq.add_(part.view({h, per_head, t}).sum(1));
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
