#include "compress/modality.h"

#include "compress/tensor_fmt.h"
#include "core/error.h"

namespace kvb {

std::vector<Span> media_spans(const at::Tensor& modality) {
  std::vector<Span> out;
  if (!modality.defined()) return out;
  KVB_CHECK(modality.dim() == 1, "modality must be [T], got {}", shape_str(modality));
  auto m = modality.to(at::kByte).contiguous();
  const uint8_t* p = m.data_ptr<uint8_t>();
  const int64_t t = m.size(0);
  for (int64_t i = 0; i < t;) {
    int64_t j = i + 1;
    while (j < t && p[j] == p[i]) ++j;
    if (p[i] != kText) out.push_back({i, j, p[i]});
    i = j;
  }
  return out;
}

}  // namespace kvb
