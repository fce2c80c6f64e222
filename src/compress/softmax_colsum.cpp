#include "compress/softmax_colsum.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define KVB_SOFTMAX_AVX512 1
#endif

namespace kvb {

#ifdef KVB_SOFTMAX_AVX512
namespace {

#define KVB_AVX512 __attribute__((target("avx512f")))

// exp(x) for x <= 0 (Cephes' expf: x = k ln2 + r, |r| <= ln2/2, a degree-6 polynomial in r,
// then 2^k by vscalef); relative error ~2e-7. Below -87.3 the result flushes towards 0, which a
// softmax term that small is anyway.
KVB_AVX512 inline __m512 exp_nonpositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, k);
}

KVB_AVX512 inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

KVB_AVX512 void row_softmax_colsum(float* x, int64_t len, int64_t n, float* col) {
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 vmax = neg_inf;
  for (int64_t j = 0; j < len; j += 16)
    vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(neg_inf, tail_mask(len - j), x + j));
  const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  __m512 vsum = _mm512_setzero_ps();
  for (int64_t j = 0; j < len; j += 16) {
    const __mmask16 k = tail_mask(len - j);
    const __m512 e = _mm512_maskz_mov_ps(k, exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), m)));
    vsum = _mm512_add_ps(vsum, e);
    if (j < n) _mm512_mask_storeu_ps(x + j, k & tail_mask(n - j), e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = tail_mask(n - j);
    _mm512_mask_storeu_ps(col + j, k,
                          _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x + j), inv, _mm512_maskz_loadu_ps(k, col + j)));
  }
}

}  // namespace

bool softmax_colsum_available() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
}

void softmax_colsum(float* logits, int64_t rows, int64_t t, int64_t visible0, int64_t n, float* col) {
  KVB_CHECK(softmax_colsum_available() && n >= 0 && n <= visible0 && visible0 >= 1,
            "softmax_colsum: needs AVX-512F and 0 <= n <= visible0 (n={}, visible0={})", n, visible0);
  for (int64_t i = 0; i < rows; ++i) row_softmax_colsum(logits + i * t, std::min(t, visible0 + i), n, col);
}

#else

bool softmax_colsum_available() { return false; }

void softmax_colsum(float*, int64_t, int64_t, int64_t, int64_t, float*) {
  throw Error("softmax_colsum: this build has no AVX-512 kernel (use softmax_colsum_available())");
}

#endif

}  // namespace kvb
