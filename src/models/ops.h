#pragma once
// Small tensor operations shared by model families, written the way transformers computes
// them (RMSNorm in float32, rotate-half RoPE) so parity holds in low precision too.
#include <ATen/ATen.h>

namespace kvb {

// weight * (x / sqrt(mean(x^2) + eps)), the normalisation in float32, cast back before the weight.
inline at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor h = x.to(at::kFloat);
  const at::Tensor normed = h * at::rsqrt(h.pow(2).mean(-1, true) + eps);
  return weight * normed.to(x.scalar_type());
}

// [x1, x2] -> [-x2, x1] over the last dimension.
inline at::Tensor rotate_half(const at::Tensor& x) {
  const int64_t h = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}

inline at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  return x * cos + rotate_half(x) * sin;
}

// SwiGLU on a [.., 2I] tensor holding gate then up: silu(gate) * up.
inline at::Tensor silu_gate(const at::Tensor& gate_up) {
  const int64_t i = gate_up.size(-1) / 2;
  return at::silu(gate_up.narrow(-1, 0, i)) * gate_up.narrow(-1, i, i);
}

}  // namespace kvb
