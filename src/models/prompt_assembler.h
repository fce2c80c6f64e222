#pragma once
// The prompt assembly every family shares: the chat template writes one placeholder token per
// image or video, the family's processor says how many LLM tokens each becomes, and this
// expands the placeholders, records each token's modality and the media spans, and scatters
// the vision tower's features into the embeddings.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "core/kv_layout.h"
#include "models/model.h"

namespace kvb {

struct MediaTokens {   // one image or video, as its processor made it
  int64_t pad_id = 0;  // the placeholder token the chat template wrote for it
  Modality modality = kImage;
  int64_t groups = 1;        // spans it forms: a video's temporal grid steps; 1 for an image
  int64_t group_tokens = 0;  // LLM tokens per span
  int64_t tail_tokens = 0;   // tokens after the last span, counted in it (OneVision's newline after a video)
};

// `raw`: the tokenized rendered prompt; `pad_ids`: every placeholder token of the family;
// `media` in prompt order. Fills p.ids, p.modality and p.media and returns the expanded ids.
// Errors when the placeholders and the media items differ in number or kind.
std::vector<int64_t> expand_placeholders(const std::vector<int64_t>& raw, const std::vector<int64_t>& pad_ids,
                         const std::vector<MediaTokens>& media, PreparedPrompt& p);

// Rows of `embeddings` [T, H] whose id in `ids` [T] is `pad_id` take `features`' rows (any
// shape [..., H], in order), cast to the embeddings' dtype.
void scatter_features(at::Tensor& embeddings, const at::Tensor& ids, int64_t pad_id, const at::Tensor& features);

}  // namespace kvb
