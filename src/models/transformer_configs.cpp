#include "models/transformer_configs.h"

#include <algorithm>

namespace kvb {

TextDecoderSpec DecoderConfig::decoder_spec(bool qkv_bias) const {
  return {num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim, rms_norm_eps, rope_theta,
          qkv_bias, tie_word_embeddings, {}};
}

nlohmann::json DecoderConfig::size_keys() const {
  nlohmann::json j = {{"vocab_size", vocab_size},
                      {"hidden_size", hidden_size},
                      {"intermediate_size", intermediate_size},
                      {"num_hidden_layers", num_hidden_layers},
                      {"num_attention_heads", num_attention_heads},
                      {"num_key_value_heads", num_key_value_heads},
                      {"rope_theta", rope_theta}};
  if (head_dim != hidden_size / num_attention_heads) j["head_dim"] = head_dim;
  return j;
}

nlohmann::json VisionTowerConfig::size_keys(const char* model_type) const {
  return {{"hidden_size", hidden_size},
          {"image_size", image_size},
          {"intermediate_size", intermediate_size},
          {"model_type", model_type},
          {"num_attention_heads", num_attention_heads},
          {"num_hidden_layers", num_hidden_layers},
          {"patch_size", patch_size}};
}

int64_t vision_layers_used(const std::vector<int64_t>& feature_layers, int64_t num_hidden_layers) {
  int64_t deepest = 0;
  for (int64_t l : feature_layers) deepest = std::max(deepest, hidden_state_index(l, num_hidden_layers));
  return deepest;
}

nlohmann::json feature_layers_json(const std::vector<int64_t>& feature_layers) {
  return feature_layers.size() == 1 ? nlohmann::json(feature_layers[0]) : nlohmann::json(feature_layers);
}

}  // namespace kvb
