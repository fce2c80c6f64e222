#include "models/llava/weights.h"

namespace kvb::llava {

using llava_layout::kVision;

std::vector<TensorSpec> tensor_specs(const Config& c) {
  using I = TensorSpec::Init;
  const auto& t = c.text;
  const auto& v = c.vision;
  std::vector<TensorSpec> s;
  llava_layout::append_language_model_specs(s, t, text_decoder_spec(c));
  const int64_t E = v.hidden_size, P = v.patch_size, N = v.patches_per_side() * v.patches_per_side() + 1;
  s.push_back({kVision + "embeddings.class_embedding", {E}, I::Embedding, 1});
  s.push_back({kVision + "embeddings.patch_embedding.weight", {E, v.num_channels, P, P}, I::Linear, v.num_channels * P * P});
  s.push_back({kVision + "embeddings.position_embedding.weight", {N, E}, I::Embedding, 1});
  s.push_back({kVision + "pre_layrnorm.weight", {E}, I::Norm, 1});
  s.push_back({kVision + "pre_layrnorm.bias", {E}, I::NormBias, 1});
  append_encoder_specs(s, kVision, v.num_hidden_layers, E, v.intermediate_size, {"q_proj", "k_proj", "v_proj"});
  llava_layout::append_projector_specs(s, t.hidden_size, E * static_cast<int64_t>(c.vision_feature_layers.size()),
                                       c.multimodal_projector_bias);
  return s;
}

Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts) {
  const int64_t used = c.vision_layers_used();
  const llava_layout::Checkpoint ck(dir, tensor_specs(c), used, opts);
  Weights w;
  w.text = llava_layout::read_language_model(ck, text_decoder_spec(c));
  w.patch_w = ck(kVision + "embeddings.patch_embedding.weight");
  w.class_embedding = ck(kVision + "embeddings.class_embedding");
  w.position_embedding = ck(kVision + "embeddings.position_embedding.weight");
  w.pre_ln_w = ck(kVision + "pre_layrnorm.weight");
  w.pre_ln_b = ck(kVision + "pre_layrnorm.bias");
  for (int64_t l = 0; l < used; ++l) w.clip_layers.push_back(read_encoder_layer(ck.reader(), kVision, l));
  w.projector = llava_layout::read_projector(ck, c.multimodal_projector_bias);
  return w;
}

}  // namespace kvb::llava
