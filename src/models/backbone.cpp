#include "core/error.h"
#include "models/model.h"

namespace kvb {

std::vector<at::Tensor> Backbone::weight_buffers() const {
  KVB_FAIL("the {} family cannot be trained here (only qwen2_5_vl exposes its weights for training)", family());
}

std::vector<std::pair<std::string, at::Tensor>> Backbone::checkpoint_tensors() const {
  KVB_FAIL("the {} family cannot be trained here (only qwen2_5_vl exposes its weights for training)", family());
}

}  // namespace kvb
