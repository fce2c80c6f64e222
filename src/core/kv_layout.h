#pragma once
// How a prefill's K/V are laid out, in the terms both sides of the cache speak: model families
// produce it (geometry, each token's modality, the media spans) and compression methods read it.
// It sits at the bottom so that neither has to include the other.
#include <cstdint>

namespace kvb {

enum Modality : uint8_t { kText = 0, kImage = 1, kVideo = 2 };

struct Span {  // [begin, end) token range of one image or video frame group
  int64_t begin = 0, end = 0;
  uint8_t modality = kImage;
};

struct ModelGeometry {
  int64_t layers = 0, q_heads = 0, kv_heads = 0, head_dim = 0;
};

}  // namespace kvb
