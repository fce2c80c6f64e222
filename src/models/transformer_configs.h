#pragma once
// The config fields that transformers' decoder classes (LlamaConfig, Qwen2Config) and vision tower
// classes (CLIPVisionConfig, SiglipVisionConfig) share, for the LLaVA families: where the classes'
// defaults differ, the family's struct sets its own in its constructor, so each family states only
// what differs from the other.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "models/text_decoder.h"

namespace kvb {

struct DecoderConfig {
  int64_t vocab_size = 0, hidden_size = 4096, intermediate_size = 0;
  int64_t num_hidden_layers = 32, num_attention_heads = 32, num_key_value_heads = 32, head_dim = 128;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6, rope_theta = 10000.0;
  bool tie_word_embeddings = false;

  // A 1-D RoPE decoder; LLaMA's projections have no bias, Qwen2's q/k/v have one.
  TextDecoderSpec decoder_spec(bool qkv_bias) const;
  // vocab_size, the layer sizes and rope_theta for a config.json text_config; head_dim only when it
  // is not hidden_size / num_attention_heads (what transformers assumes without it).
  nlohmann::json size_keys() const;
};

struct VisionTowerConfig {
  int64_t hidden_size = 768, intermediate_size = 3072, num_hidden_layers = 12, num_attention_heads = 12;
  int64_t num_channels = 3, image_size = 224, patch_size = 0;
  double layer_norm_eps = 0;
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t patches_per_side() const { return image_size / patch_size; }

  // The size keys and model_type of a config.json vision_config.
  nlohmann::json size_keys(const char* model_type) const;
};

// Where vision_feature_layer `layer` lands among a tower's num_hidden_layers + 1 hidden states
// (0 = the embeddings, i = after layer i; negative counts from the end).
inline int64_t hidden_state_index(int64_t layer, int64_t num_hidden_layers) {
  return layer < 0 ? num_hidden_layers + 1 + layer : layer;
}

// The encoder layers the features need: the deepest selected hidden state.
int64_t vision_layers_used(const std::vector<int64_t>& feature_layers, int64_t num_hidden_layers);

// vision_feature_layer as config.json writes it: one index bare, several as a list.
nlohmann::json feature_layers_json(const std::vector<int64_t>& feature_layers);

}  // namespace kvb
