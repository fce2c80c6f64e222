#pragma once
// The softmax-then-column-sum at the heart of window-attention scoring (SnapKV and its kin), fused
// into one sweep per row with a 16-wide exponential: ATen 1.13 runs softmax's exp through Sleef's
// 8-wide AVX2 code even on AVX-512 CPUs, and its softmax, sum and mask are separate passes.
#include <cstdint>

namespace kvb {

// True where the fused kernel runs (x86-64 with AVX-512F); elsewhere callers use ATen ops.
bool softmax_colsum_available();

// For each of `rows` rows of `logits` (row-major, row stride `t`; overwritten as scratch), row i
// seeing its first min(t, visible0 + i) columns: softmax over what it sees, then adds the
// probabilities of columns [0, n) to col[0, n). Requires n <= visible0 and
// softmax_colsum_available().
void softmax_colsum(float* logits, int64_t rows, int64_t t, int64_t visible0, int64_t n, float* col);

}  // namespace kvb
