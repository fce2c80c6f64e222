#pragma once
// The pre-norm decoder layer Qwen2 and LLaMA share (HF Qwen2DecoderLayer / LlamaDecoderLayer):
// RMSNorm -> fused q/k/v projection (bias: Qwen2 only) -> rotate-half RoPE; attention is the
// engine's; then o_proj + residual, RMSNorm -> SwiGLU MLP + residual. A family supplies the
// weights, its RoPE tables and its head counts.
#include <ATen/ATen.h>

#include <cstdint>

#include "models/ops.h"

namespace kvb {

struct DecoderLayer {
  at::Tensor qkv_w, qkv_b;  // q, k, v rows stacked: [(Hq + 2 Hkv) D, H]; qkv_b undefined without bias
  at::Tensor o_w, gate_up_w, down_w;  // gate and up stacked: [2 I, H]
  at::Tensor input_norm, post_norm;
};

struct DecoderShape {
  int64_t q_heads, kv_heads, head_dim;
  double rms_norm_eps;
};

// q [Hq, n, D], k and v [Hkv, n, D]; `rope` is [2, n, D] (cos, sin), q and k come out post-RoPE.
inline void decoder_project_qkv(const DecoderLayer& L, const DecoderShape& s, const at::Tensor& hidden,
                                const at::Tensor& rope, at::Tensor& q, at::Tensor& k, at::Tensor& v) {
  const int64_t n = hidden.size(0), D = s.head_dim;
  const at::Tensor qkv = at::linear(rms_norm(hidden, L.input_norm, s.rms_norm_eps), L.qkv_w, L.qkv_b);
  const at::Tensor cos = rope[0].unsqueeze(0), sin = rope[1].unsqueeze(0);
  auto heads = [&](int64_t from, int64_t count) {
    return qkv.narrow(1, from * D, count * D).view({n, count, D}).transpose(0, 1);
  };
  q = apply_rotary(heads(0, s.q_heads), cos, sin).contiguous();
  k = apply_rotary(heads(s.q_heads, s.kv_heads), cos, sin).contiguous();
  v = heads(s.q_heads + s.kv_heads, s.kv_heads).contiguous();
}

// attn [n, Hq*D] -> the layer's output hidden [n, H].
inline at::Tensor decoder_finish(const DecoderLayer& L, const DecoderShape& s, const at::Tensor& hidden,
                                 const at::Tensor& attn) {
  const at::Tensor h = hidden + at::linear(attn, L.o_w);
  return h + at::linear(silu_gate(at::linear(rms_norm(h, L.post_norm, s.rms_norm_eps), L.gate_up_w)), L.down_w);
}

}  // namespace kvb
