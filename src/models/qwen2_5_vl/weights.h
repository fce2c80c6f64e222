#pragma once
// Qwen2.5-VL tensors: the list of names and shapes a config implies (in the published
// checkpoint layout), loading with shape checks, and the fused layouts the forward uses.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "models/qwen2_5_vl/config.h"
#include "models/tensor_spec.h"
#include "models/text_decoder.h"

namespace kvb::qwen {

// Every tensor of the checkpoint, in a fixed order (lm_head only when untied).
std::vector<TensorSpec> tensor_specs(const Config& c);

struct VisionBlock {
  at::Tensor norm1, norm2, qkv_w, qkv_b, proj_w, proj_b;
  at::Tensor gate_up_w, gate_up_b, down_w, down_b;
};

struct Weights {
  TextDecoderWeights text;
  at::Tensor patch_w;  // [E, C*Tp*P*P] (Conv3d kernel flattened in the processor's patch order)
  std::vector<VisionBlock> blocks;
  at::Tensor merger_norm, merger_fc1_w, merger_fc1_b, merger_fc2_w, merger_fc2_b;
  // Each published tensor as a view of the buffer above that holds it (fused q/k/v rows, ...).
  std::vector<std::pair<std::string, at::Tensor>> published;

  // The buffers the forward reads, each once (training leaves).
  std::vector<at::Tensor> buffers() const;
};

// Loads from a folder (model.safetensors or a sharded index). Both the published names and
// the names newer transformers save (model.language_model.*, model.visual.*) are accepted.
// A missing or mis-shaped tensor is an error naming it, its expected shape and the file.
Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts);

}  // namespace kvb::qwen
