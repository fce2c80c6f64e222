#pragma once
// The same transforms as dct_raw (compress/dct.h), computed with ATen's FFT so they run on any
// device (cuFFT on CUDA), where FFTW cannot: Makhoul's N-point reordering, one complex FFT.
#include <ATen/ATen.h>

#include "compress/dct.h"

namespace kvb {

// Float [B, T, C] -> float [B, T, C] along dim 1, same device; FFTW's REDFT10 (kII) / REDFT01
// (kIII) conventions, so kIII(kII(x)) = 2T x.
at::Tensor dct_raw_fft(const at::Tensor& in, DctKind kind);

}  // namespace kvb
