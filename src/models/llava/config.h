#pragma once
// LLaVA-1.5 config.json read as transformers 4.50 reads it: LlavaConfig, with text_config a
// LlamaConfig and vision_config a CLIPVisionConfig, each key missing from the file taking that
// class's default (the published llava-1.5-7b-hf lists only the keys that differ).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/text_decoder.h"
#include "models/transformer_configs.h"

namespace kvb::llava {

struct TextConfig : DecoderConfig {  // LlamaConfig defaults where they differ from Qwen2Config's
  TextConfig() { vocab_size = 32000, intermediate_size = 11008, max_position_embeddings = 2048; }
  int64_t eos_token_id = 2;
};

struct VisionConfig : VisionTowerConfig {  // CLIPVisionConfig defaults where they differ from SigLIP's
  VisionConfig() { patch_size = 32, layer_norm_eps = 1e-5; }
  int64_t projection_dim = 512;
};

struct Config {
  TextConfig text;
  VisionConfig vision;
  int64_t image_token_index = 32000, pad_token_id = -1;
  // Indices into the tower's hidden states (0 = embeddings after pre_layrnorm, i = after layer i,
  // negative from the end); several are concatenated on the feature axis.
  std::vector<int64_t> vision_feature_layers{-2};
  std::string vision_feature_select_strategy = "default";  // "default" drops the CLS token
  bool multimodal_projector_bias = true;

  int64_t vision_layers_used() const { return kvb::vision_layers_used(vision_feature_layers, vision.num_hidden_layers); }
  // Image tokens one image becomes (CLS dropped under "default").
  int64_t image_tokens() const;
};

// The LLaMA text decoder: no q/k/v bias, 1-D RoPE.
TextDecoderSpec text_decoder_spec(const Config& c);

// Parses and validates; errors name `source` (the file) and the field.
Config parse_config(const nlohmann::json& j, const std::string& source);

// config.json with the keys of the published llava-1.5-7b-hf plus the sizes that differ from the
// transformers defaults, so HF transformers reads exactly `c`.
nlohmann::json config_json(const Config& c);

}  // namespace kvb::llava
