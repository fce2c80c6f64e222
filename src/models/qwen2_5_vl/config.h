#pragma once
// Qwen2.5-VL config.json, read as transformers reads it: the flat layout of the published
// checkpoints (text keys at the top level) and the nested `text_config` layout that newer
// transformers versions save are both accepted.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/text_decoder.h"

namespace kvb::qwen {

struct VisionConfig {
  int64_t depth = 32, hidden_size = 1280, intermediate_size = 3420, num_heads = 16;
  int64_t in_channels = 3, out_hidden_size = 3584, patch_size = 14, spatial_merge_size = 2;
  int64_t temporal_patch_size = 2, window_size = 112;
  std::vector<int64_t> fullatt_block_indexes{7, 15, 23, 31};
  double tokens_per_second = 2;
  std::string hidden_act = "silu";
  int64_t head_dim() const { return hidden_size / num_heads; }
};

struct TextConfig {
  int64_t vocab_size = 152064, hidden_size = 3584, intermediate_size = 18944;
  int64_t num_hidden_layers = 28, num_attention_heads = 28, num_key_value_heads = 4;
  double rms_norm_eps = 1e-6, rope_theta = 1e6;
  std::vector<int64_t> mrope_section{16, 24, 24};
  bool tie_word_embeddings = false;
  std::string hidden_act = "silu";
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

struct Config {
  TextConfig text;
  VisionConfig vision;
  int64_t image_token_id = 151655, video_token_id = 151656;
  int64_t vision_start_token_id = 151652, vision_end_token_id = 151653;
  int64_t bos_token_id = 151643, vision_token_id = 151654;
  std::vector<int64_t> eos_token_ids{151645};
  std::string torch_dtype = "bfloat16";
};

// The Qwen2 text decoder: q/k/v bias, M-RoPE over mrope_section.
TextDecoderSpec text_decoder_spec(const Config& c);

// Parses and validates; errors name `source` (the file) and the field.
Config parse_config(const nlohmann::json& j, const std::string& source);

// The config.json of the published Qwen2.5-VL-7B-Instruct with every size overridable:
// make-tiny-model writes this with tiny sizes, so HF transformers sees the real key set.
nlohmann::json config_json(const Config& c);

}  // namespace kvb::qwen
