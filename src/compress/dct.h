#pragma once
// DCT along the token axis (dim 1) of contiguous float [B, T, C] tensors, every column at once,
// with FFTW plans cached per shape (planning is serialised; execution is thread-safe).
#include <ATen/ATen.h>

#include <cstdint>

namespace kvb {

enum class DctKind { kII, kIII };  // FFTW REDFT10 / REDFT01

// Unnormalised FFTW transform of `in` into `out` (both contiguous float [B, T, C], distinct,
// aligned like at:: allocations): kII gives Y_k = 2 sum_n x_n cos(pi k (2n+1) / 2T);
// kIII gives y_n = X_0 + 2 sum_{k>=1} X_k cos(pi k (2n+1) / 2T); kIII(kII(x)) = 2T x.
void dct_raw(const at::Tensor& in, at::Tensor& out, DctKind kind);

// The same unnormalised transform along each contiguous row of float [N, T] `in` into `out`
// (distinct, same shape, any alignment): one cached single-row plan per (kind, T), rows spread
// over the intra-op threads. Contiguous rows are what FFTW is fast on; [B, T, C] data is
// transposed to [B, C, T] first (see frequency.cpp).
void dct_rows(const at::Tensor& in, at::Tensor& out, DctKind kind);

// Orthonormal DCT-II and its inverse (DCT-III) of [B, T, C] float tensors (copies).
at::Tensor dct_ortho(const at::Tensor& x);
at::Tensor idct_ortho(const at::Tensor& coeffs);

}  // namespace kvb
