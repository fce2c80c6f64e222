#pragma once
// The checkpoint layout LLaVA-1.5 and LLaVA-OneVision share (llava-hf's published files): the
// language_model.* / vision_tower.vision_model.* / multi_modal_projector.* names, the names
// transformers >= 4.52 saves instead, the shape check against a family's specs, and the 2-layer
// GELU projector.
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/safetensors.h"
#include "models/tensor_spec.h"
#include "models/text_decoder.h"
#include "models/transformer_configs.h"
#include "models/weight_reader.h"

namespace kvb::llava_layout {

inline const std::string kText = "language_model.model.";
inline const std::string kLmHead = "language_model.lm_head.weight";
inline const std::string kVision = "vision_tower.vision_model.";

// The name transformers >= 4.52 saves for a published name (model.language_model.*, lm_head.*,
// model.vision_tower.*, model.multi_modal_projector.*, model.image_newline).
std::string new_style_name(const std::string& published);

// Checks every spec's tensor, under its published or new-style name, for presence and shape
// (errors name the tensor, the shape config.json implies and the file), and maps the published
// names of those the model runs (vision layers below `vision_layers_used`, no post_layernorm) to
// their names in the checkpoint.
std::map<std::string, std::string> locate_tensors(const SafeTensors& st, const std::vector<TensorSpec>& specs,
                                                  int64_t vision_layers_used);

// A checkpoint folder (model.safetensors or a sharded index) opened for loading: every spec
// checked by locate_tensors, the tensors the model runs read by their published names.
class Checkpoint {
 public:
  Checkpoint(const std::string& dir, const std::vector<TensorSpec>& specs, int64_t vision_layers_used,
             const at::TensorOptions& opts)
      : st_(SafeTensors::open(dir)), reader_(st_, opts, locate_tensors(st_, specs, vision_layers_used)) {}
  Checkpoint(const Checkpoint&) = delete;  // reader_ refers to st_
  Checkpoint& operator=(const Checkpoint&) = delete;

  // Streamed into the final buffers, fused projections included (see WeightReader).
  const WeightReader& reader() const { return reader_; }
  at::Tensor operator()(const std::string& name) const { return reader_({name}); }

 private:
  SafeTensors st_;
  WeightReader reader_;
};

// The language model's tensors under language_model.* (the family's decoder `spec`).
void append_language_model_specs(std::vector<TensorSpec>& s, const DecoderConfig& t, const TextDecoderSpec& spec);
TextDecoderWeights read_language_model(const Checkpoint& ck, const TextDecoderSpec& spec);

// multi_modal_projector linear_1 [H, F] and linear_2 [H, H], biases when `bias`.
void append_projector_specs(std::vector<TensorSpec>& s, int64_t H, int64_t F, bool bias);

// LlavaMultiModalProjector / LlavaOnevisionMultiModalProjector: linear, exact GELU, linear.
struct Projector {
  at::Tensor w1, b1, w2, b2;  // biases undefined without multimodal_projector_bias
  at::Tensor operator()(const at::Tensor& features) const {
    return at::linear(at::gelu(at::linear(features, w1, b1)), w2, b2);
  }
};

Projector read_projector(const Checkpoint& ck, bool bias);

}  // namespace kvb::llava_layout
