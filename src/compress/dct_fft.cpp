#include "compress/dct_fft.h"

#include <cmath>

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {
namespace {

// exp(sign * i pi k / 2T), k = 0..T-1, shaped [1, T, 1] to broadcast over [B, T, C].
at::Tensor twiddle(int64_t T, double sign, const at::TensorOptions& opts) {
  const at::Tensor angle = at::arange(T, opts) * (sign * M_PI / (2.0 * static_cast<double>(T)));
  return at::polar(at::ones_like(angle), angle).view({1, T, 1});
}

}  // namespace

at::Tensor dct_raw_fft(const at::Tensor& in, DctKind kind) {
  KVB_CHECK(in.dim() == 3 && in.scalar_type() == at::kFloat, "dct_raw_fft: want float [B, T, C], got {} {}",
            shape_str(in), dtype_str(in));
  const int64_t T = in.size(1), even = (T + 1) / 2;
  const auto opts = in.options();
  if (kind == DctKind::kII) {
    // v = (x_0, x_2, ..., x_5, x_3, x_1); Y_k = 2 Re(e^{-i pi k / 2T} FFT(v)_k).
    const at::Tensor v = at::cat({in.slice(1, 0, T, 2), in.slice(1, 1, T, 2).flip({1})}, 1);
    return at::real(at::fft_fft(v, c10::nullopt, 1) * twiddle(T, -1.0, opts)) * 2.0;
  }
  // Z_k = (X_k - i X_{T-k}) e^{i pi k / 2T} with X_T = 0; u = unscaled inverse FFT of Z;
  // y_{2m} = Re u_m, y_{2m+1} = Re u_{T-1-m}.
  const at::Tensor mirrored = at::cat({at::zeros_like(in.narrow(1, 0, 1)), in.slice(1, 1, T).flip({1})}, 1);
  const at::Tensor z = at::complex(in, -mirrored) * twiddle(T, 1.0, opts);
  const at::Tensor u = at::real(at::fft_ifft(z, c10::nullopt, 1, "forward"));
  at::Tensor y = at::empty_like(in);
  y.slice(1, 0, T, 2).copy_(u.narrow(1, 0, even));
  y.slice(1, 1, T, 2).copy_(u.slice(1, even, T).flip({1}));
  return y;
}

}  // namespace kvb
