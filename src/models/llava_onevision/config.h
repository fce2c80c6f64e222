#pragma once
// LLaVA-OneVision config.json read as transformers 4.50 reads it: LlavaOnevisionConfig, with
// text_config a Qwen2Config and vision_config a SiglipVisionConfig, each key missing from the
// file taking that class's default.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/text_decoder.h"
#include "models/transformer_configs.h"

namespace kvb::llava_onevision {

struct TextConfig : DecoderConfig {  // Qwen2Config defaults where they differ from LlamaConfig's
  TextConfig() { vocab_size = 151936, intermediate_size = 22016, max_position_embeddings = 32768; }
  std::vector<int64_t> eos_token_ids;  // text_config.eos_token_id when given
};

struct VisionConfig : VisionTowerConfig {  // SiglipVisionConfig defaults where they differ from CLIP's
  VisionConfig() { patch_size = 16, layer_norm_eps = 1e-6; }
};

using Pinpoints = std::vector<std::pair<int64_t, int64_t>>;  // (height, width)

struct Config {
  TextConfig text;
  VisionConfig vision;
  int64_t image_token_index = 151646, video_token_index = 151647;
  std::vector<int64_t> vision_feature_layers{-1};
  std::string vision_feature_select_strategy = "full";
  int64_t max_tiles = 9;  // vision_aspect_ratio "anyres_max_<N>"
  Pinpoints image_grid_pinpoints;
  bool multimodal_projector_bias = true;

  int64_t vision_layers_used() const { return kvb::vision_layers_used(vision_feature_layers, vision.num_hidden_layers); }
  // Features one 'image_size' tile becomes (SigLIP has no CLS token).
  int64_t tile_tokens() const { return vision.patches_per_side() * vision.patches_per_side(); }
};

// LlavaOnevisionConfig's default image_grid_pinpoints: 384 x {1..6} by 384 x {1..6}.
Pinpoints default_pinpoints(int64_t tile = 384);

// The Qwen2 text decoder: q/k/v with bias, 1-D RoPE.
TextDecoderSpec text_decoder_spec(const Config& c);

// Parses and validates; errors name `source` (the file) and the field.
Config parse_config(const nlohmann::json& j, const std::string& source);

// config.json with the keys of the published llava-onevision-qwen2-7b-ov-hf, the sizes taken from `c`.
nlohmann::json config_json(const Config& c);

}  // namespace kvb::llava_onevision
