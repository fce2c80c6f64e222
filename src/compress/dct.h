#pragma once
// DCT along the token axis (dim 1) of contiguous float [B, T, C] tensors, every column at once,
// with FFTW plans cached per shape (planning is serialised; execution is thread-safe).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace kvb {

enum class DctKind { kII, kIII };  // FFTW REDFT10 / REDFT01

// How dct_rows computes a length: FFTW's own REDFT10/01 codelets, or Makhoul's reordering
// plus one batched real FFT (r2c for DCT-II, c2r for DCT-III) and a twiddle pass. kAuto times
// both once per (kind, T) on the first call and keeps the faster (see dct_rows_choice).
// kLegacy is the previous path (one FFTW_ESTIMATE single-row REDFT plan run row by row), kept
// for A/B timing (KVB_DCT_ALGO=legacy|redft|makhoul overrides kAuto).
enum class DctAlgo { kAuto, kRedft, kMakhoul, kLegacy };

// Unnormalised FFTW transform of `in` into `out` (both contiguous float [B, T, C], distinct,
// aligned like at:: allocations): kII gives Y_k = 2 sum_n x_n cos(pi k (2n+1) / 2T);
// kIII gives y_n = X_0 + 2 sum_{k>=1} X_k cos(pi k (2n+1) / 2T); kIII(kII(x)) = 2T x.
void dct_raw(const at::Tensor& in, at::Tensor& out, DctKind kind);

// The same unnormalised transform along each contiguous row of float [N, T] `in` into `out`
// (distinct, same shape, any alignment), blocks of rows spread over the intra-op threads.
// Contiguous rows are what FFTW is fast on; [B, T, C] data is transposed to [B, C, T] first
// (see frequency.cpp). Plans are made once per (algorithm, kind, T, rows per block) with
// FFTW_MEASURE, serialised under one planner lock, and kept as FFTW wisdom in
// fftw_wisdom_path() so later processes skip the measuring.
void dct_rows(const at::Tensor& in, at::Tensor& out, DctKind kind, DctAlgo algo = DctAlgo::kAuto);

// What kAuto picked (or picks now, timing both) for (kind, T): kRedft or kMakhoul.
DctAlgo dct_rows_choice(DctKind kind, int64_t t);

// Whether FlashCache's round trip runs fused (highpass_sumsq): true unless KVB_DCT_ALGO is set,
// which puts it back on two dct_rows passes with that algorithm (A/B timing).
bool dct_fused();
std::string dct_algo_name(DctAlgo algo);

// Where FFTW wisdom is read and written: $KVB_FFTW_WISDOM if set ("off" or "" disables it),
// else $XDG_CACHE_HOME/kvbench/fftw-wisdom, else $HOME/.cache/kvbench/fftw-wisdom; "" = none.
std::string fftw_wisdom_path();

// FlashCache's round trip without the coefficients ever leaving cache. For contiguous float CPU
// [H, T, D] `x`, adds into `sumsq` (contiguous float [H, T]) sum_d r[h, t, d]^2, where r is the
// unnormalised kIII(kII(x)) along t with coefficients k < omega zeroed (omega = 0: r = 2T x).
// Each block of D-columns goes gather -> r2c -> twiddle and mask -> c2r -> squares in per-thread
// scratch: Makhoul's DCT-II spectrum becomes the DCT-III's c2r input pointwise, in place, so
// neither the coefficients nor the residual nor a transposed copy of x is ever written out.
void highpass_sumsq(const at::Tensor& x, int64_t omega, at::Tensor& sumsq);

// Orthonormal DCT-II and its inverse (DCT-III) of [B, T, C] float tensors (copies).
at::Tensor dct_ortho(const at::Tensor& x);
at::Tensor idct_ortho(const at::Tensor& coeffs);

}  // namespace kvb
