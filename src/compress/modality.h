#pragma once
// Media spans from a per-token modality tensor (for callers that only have the tensor, like
// `kvbench compress` on a dumped KV file).
#include <ATen/ATen.h>

#include <vector>

#include "compress/method.h"

namespace kvb {

// Maximal runs of equal non-text modality, in token order.
std::vector<Span> media_spans(const at::Tensor& modality);

}  // namespace kvb
