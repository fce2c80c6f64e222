#include "models/llava/config.h"

#include "core/error.h"
#include "models/config_fields.h"

namespace kvb::llava {
namespace {

using json = nlohmann::json;

using config_fields::read;

TextConfig parse_text(const json& t, const std::string& w) {
  TextConfig c;
  config_fields::require_model_type(t, "llama", w, "LLaVA-1.5 uses a llama text model");
  config_fields::read_decoder_fields(t, c, w, true);
  for (const char* k : {"attention_bias", "mlp_bias"}) {
    bool b = false;
    read(t, k, b, w);
    KVB_CHECK(!b, "{}: field '{}' = true is not supported (LLaMA projections have no bias)", w, k);
  }
  if (t.contains("eos_token_id") && t["eos_token_id"].is_number_integer()) c.eos_token_id = t["eos_token_id"].get<int64_t>();
  return c;
}

VisionConfig parse_vision(const json& v, const std::string& w) {
  VisionConfig c;
  config_fields::require_model_type(v, "clip_vision_model", w, "LLaVA-1.5 uses clip_vision_model");
  config_fields::read_vision_tower_fields(v, c, w);
  read(v, "projection_dim", c.projection_dim, w);
  config_fields::require_value(v, "hidden_act", "quick_gelu", w, "quick_gelu (CLIP)");
  KVB_CHECK(c.image_size % c.patch_size == 0, "{}: field 'image_size' ({}) is not a multiple of patch_size ({})", w,
            c.image_size, c.patch_size);
  return c;
}

}  // namespace

int64_t Config::image_tokens() const {
  const int64_t p = vision.patches_per_side();
  return p * p + (vision_feature_select_strategy == "default" ? 0 : 1);
}

Config parse_config(const json& j, const std::string& source) {
  config_fields::require_config_type(j, "llava", source);
  Config c;
  c.text = parse_text(config_fields::sub_config(j, "text_config", source), source + " text_config");
  // Absent: LlavaConfig's own default tower, CLIP ViT-L/14 at 336 px.
  c.vision = parse_vision(config_fields::sub_config_or(j, "vision_config", source,
                                                       {{"hidden_size", 1024}, {"intermediate_size", 4096},
                                                        {"num_hidden_layers", 24}, {"num_attention_heads", 16},
                                                        {"image_size", 336}, {"patch_size", 14},
                                                        {"projection_dim", 768}}),
                          source + " vision_config");
  // Newer transformers write image_token_id (an alias of image_token_index).
  read(j, "image_token_index", c.image_token_index, source);
  read(j, "image_token_id", c.image_token_index, source);
  read(j, "pad_token_id", c.pad_token_id, source);
  config_fields::read_projector_fields(j, c.multimodal_projector_bias, source);
  read(j, "vision_feature_select_strategy", c.vision_feature_select_strategy, source);
  KVB_CHECK(c.vision_feature_select_strategy == "default" || c.vision_feature_select_strategy == "full",
            "{}: field 'vision_feature_select_strategy' is '{}', expected 'default' or 'full'", source,
            c.vision_feature_select_strategy);
  c.vision_feature_layers = config_fields::read_feature_layers(j, c.vision_feature_layers,
                                                               c.vision.num_hidden_layers + 1, source);
  KVB_CHECK(c.image_token_index >= 0 && c.image_token_index < c.text.vocab_size,
            "{}: field 'image_token_index' ({}) is outside the text vocabulary ({})", source, c.image_token_index,
            c.text.vocab_size);
  return c;
}

json config_json(const Config& c) {
  const auto& t = c.text;
  const auto& v = c.vision;
  json text = t.size_keys();
  text.update({{"_name_or_path", "lmsys/vicuna-7b-v1.5"},
               {"architectures", {"LlamaForCausalLM"}},
               {"max_position_embeddings", t.max_position_embeddings},
               {"model_type", "llama"},
               {"rms_norm_eps", t.rms_norm_eps},
               {"torch_dtype", "float16"}});
  json vision = v.size_keys("clip_vision_model");
  vision.update({{"projection_dim", v.projection_dim}, {"vocab_size", 32000}});
  return {{"architectures", {"LlavaForConditionalGeneration"}},
          {"ignore_index", -100},
          {"image_token_index", c.image_token_index},
          {"model_type", "llava"},
          {"pad_token_id", c.pad_token_id},
          {"projector_hidden_act", "gelu"},
          {"text_config", text},
          {"tie_word_embeddings", t.tie_word_embeddings},
          {"torch_dtype", "float16"},
          {"transformers_version", "4.36.0.dev0"},
          {"vision_config", vision},
          {"vision_feature_layer", feature_layers_json(c.vision_feature_layers)},
          {"vision_feature_select_strategy", c.vision_feature_select_strategy},
          {"vocab_size", t.vocab_size}};
}

TextDecoderSpec text_decoder_spec(const Config& c) { return c.text.decoder_spec(false); }

}  // namespace kvb::llava
