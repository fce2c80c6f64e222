#pragma once
// Randomised positions for training on short haystacks (Ruoss et al. 2023, "Randomized Positional
// Encodings Boost Length Generalization of Transformers"): a sequence's RoPE positions are spread
// over a longer span, so cheap short samples show the rotary angles of the evaluated lengths. A
// model trained on contiguous short positions fits its content matches to angles that barely
// turn over 100 tokens and loses them at 1000 (measured: code retrieval at 500-1500 tokens stayed
// at chance after 700 steps at 60 tokens, and reached 100 % with stretched positions).
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace kvb {

// `positions` [R, n] (as the family's prepare returns them), `modality` [n] uint8 (Modality).
// Returns positions whose last one is drawn uniformly in [its own, span - 1]: the extra distance
// opens at 1-8 random places before a text token or at an image's edge (a few wide gaps: most
// neighbouring tokens keep the offsets evaluation shows the previous-token heads), and an image
// keeps its own t/h/w grid. A gap may fall inside a sentence or between "Picture 3:" and its
// image (opening gaps only at sentence ends and after images was tried: it learnt no better).
// Unchanged when the positions already reach span. Only raw mt19937 output is drawn, so a seed
// gives the same gaps on every platform.
at::Tensor stretch_positions(const at::Tensor& positions, const at::Tensor& modality, int64_t span, uint32_t seed);

}  // namespace kvb
