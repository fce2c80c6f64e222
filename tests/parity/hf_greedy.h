#pragma once
// The greedy-continuation rule the families' HF parity tests share: kvbench's greedy ids must
// equal HF's generate(). A step may differ only where HF disagrees with itself: its cache-free
// forward over the same prefix picks kvbench's token (a top-2 margin at bfloat16 resolution), or,
// in bfloat16 with media, where HF's top-2 margin is at most 2 bf16 units of the logits. Nothing
// after such a step is comparable.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "parity/tensor_compare.h"

namespace kvb::test {

// `got` as the engine returned it (`stopped_at_eos`: it ended on an EOS id, which HF keeps);
// `want`, `margins`, `uncached`: the goldens' greedy_tokens, greedy_margins, greedy_uncached_argmax;
// `logits`: the golden last_logits (their scale sets the bf16 resolution).
inline void expect_hf_greedy(std::vector<int64_t> got, bool stopped_at_eos, const at::Tensor& want_t,
                             const at::Tensor& margins, const at::Tensor& uncached, const at::Tensor& logits,
                             bool bf16_with_media, const std::string& key) {
  const std::vector<int64_t> want(want_t.data_ptr<int64_t>(), want_t.data_ptr<int64_t>() + want_t.numel());
  if (stopped_at_eos && got.size() < want.size()) got.push_back(want[got.size()]);
  for (size_t i = 0; i < want.size(); ++i) {
    if (i < got.size() && got[i] == want[i]) continue;
    const auto step = static_cast<int64_t>(i);
    const double margin = margins[step].item<double>();
    const double resolution = bf16_ulp(logits.abs().max().item<double>());
    if (i < got.size() && got[i] == uncached[step].item<int64_t>()) {
      std::cout << key << " greedy step " << i << ": " << got[i] << " vs HF generate() " << want[i]
                << ", and HF's cache-free forward picks " << got[i] << " too (top-2 margin " << margin
                << "); later steps not compared\n";
      return;
    }
    if (bf16_with_media && i < got.size() && margin <= 2 * resolution) {
      std::cout << key << " greedy step " << i << ": " << got[i] << " vs HF " << want[i] << " where HF's top-2 margin "
                << margin << " <= 2 bf16 ulps (" << 2 * resolution << "); later steps not compared\n";
      return;
    }
    ADD_FAILURE() << key << " greedy ids differ at step " << i << ": kvbench "
                  << (i < got.size() ? std::to_string(got[i]) : std::string("(stopped)")) << ", HF " << want[i]
                  << " (HF's top-2 margin there " << margin << ", HF cache-free argmax " << uncached[step].item<int64_t>()
                  << ")\n  kvbench: " << join(got) << "\n  HF:      " << join(want);
    return;
  }
  EXPECT_EQ(got.size(), want.size()) << key << " kvbench generated more tokens than HF";
}

}  // namespace kvb::test
