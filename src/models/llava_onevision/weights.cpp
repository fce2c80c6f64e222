#include "models/llava_onevision/weights.h"

namespace kvb::llava_onevision {

using llava_layout::kVision;

std::vector<TensorSpec> tensor_specs(const Config& c) {
  using I = TensorSpec::Init;
  const auto& t = c.text;
  const auto& v = c.vision;
  const int64_t H = t.hidden_size;
  std::vector<TensorSpec> s;
  llava_layout::append_language_model_specs(s, t, text_decoder_spec(c));
  const int64_t E = v.hidden_size, P = v.patch_size, N = c.tile_tokens();
  s.push_back({kVision + "embeddings.patch_embedding.weight", {E, v.num_channels, P, P}, I::Linear, v.num_channels * P * P});
  s.push_back({kVision + "embeddings.patch_embedding.bias", {E}, I::Bias, 1});
  s.push_back({kVision + "embeddings.position_embedding.weight", {N, E}, I::Embedding, 1});
  append_encoder_specs(s, kVision, v.num_hidden_layers, E, v.intermediate_size, {"k_proj", "v_proj", "q_proj"});
  llava_layout::append_projector_specs(s, H, E * static_cast<int64_t>(c.vision_feature_layers.size()),
                                       c.multimodal_projector_bias);
  // Random init as HF's: N(0, 1/hidden), the Linear scale with fan_in = hidden.
  s.push_back({"image_newline", {H}, I::Linear, H});
  return s;
}

Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts) {
  const int64_t used = c.vision_layers_used();
  const llava_layout::Checkpoint ck(dir, tensor_specs(c), used, opts);
  Weights w;
  w.text = llava_layout::read_language_model(ck, text_decoder_spec(c));
  w.tower.patch_w = ck(kVision + "embeddings.patch_embedding.weight");
  w.tower.patch_b = ck(kVision + "embeddings.patch_embedding.bias");
  w.tower.position_embedding = ck(kVision + "embeddings.position_embedding.weight");
  for (int64_t l = 0; l < used; ++l) w.tower.layers.push_back(read_encoder_layer(ck.reader(), kVision, l));
  w.projector = llava_layout::read_projector(ck, c.multimodal_projector_bias);
  w.image_newline = ck("image_newline");
  return w;
}

}  // namespace kvb::llava_onevision
