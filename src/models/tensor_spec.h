#pragma once
// A checkpoint's tensors as the families list them: name (published layout), shape and how a
// random tiny checkpoint initializes it. The loaders check shapes against the list; the
// make-tiny-model writers draw each tensor from its own counter-based stream (models/random_checkpoint.h).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/text_decoder.h"

namespace kvb {

struct TensorSpec {
  std::string name;  // the published name
  std::vector<int64_t> shape;
  enum class Init { Linear, Bias, Norm, NormBias, Embedding } init = Init::Linear;
  int64_t fan_in = 1;  // for Linear: the input size (scale of the random init)
};

// Appends the text decoder's tensors in the published order: `prefix`embed_tokens.weight, per
// layer q/k/v (each followed by its bias with spec.qkv_bias), o, gate/up/down and the two norms,
// `prefix`norm.weight, then `lm_head` unless the embeddings are tied.
void append_text_decoder_specs(std::vector<TensorSpec>& s, const TextDecoderSpec& spec, int64_t hidden_size,
                               int64_t intermediate_size, int64_t vocab_size, const std::string& prefix,
                               const std::string& lm_head);

// Spec i's seeded random values (stream i of `seed`) scaled by its Init, in `dtype`.
std::vector<std::pair<std::string, at::Tensor>> random_tensors(const std::vector<TensorSpec>& specs, uint64_t seed,
                                                               at::ScalarType dtype);

}  // namespace kvb
