#include "models/llava/config.h"

#include "core/error.h"
#include "models/config_fields.h"

namespace kvb::llava {
namespace {

using json = nlohmann::json;

using config_fields::check_positive;
using config_fields::read;

TextConfig parse_text(const json& t, const std::string& w) {
  TextConfig c;
  std::string type = "llama";
  read(t, "model_type", type, w);
  KVB_CHECK(type == "llama", "{}: model_type '{}' is not supported (LLaVA-1.5 uses a llama text model)", w, type);
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
  std::string type = "clip_vision_model", act = "quick_gelu";
  read(v, "model_type", type, w);
  KVB_CHECK(type == "clip_vision_model", "{}: model_type '{}' is not supported (LLaVA-1.5 uses clip_vision_model)", w,
            type);
  config_fields::read_vision_tower_fields(v, c, w);
  read(v, "projection_dim", c.projection_dim, w);
  read(v, "hidden_act", act, w);
  KVB_CHECK(act == "quick_gelu", "{}: field 'hidden_act' is '{}'; only quick_gelu (CLIP) is supported", w, act);
  KVB_CHECK(c.image_size % c.patch_size == 0, "{}: field 'image_size' ({}) is not a multiple of patch_size ({})", w,
            c.image_size, c.patch_size);
  return c;
}

}  // namespace

int64_t Config::vision_layers_used() const {
  const int64_t states = vision.num_hidden_layers + 1;
  int64_t deepest = 0;
  for (int64_t l : vision_feature_layers) deepest = std::max(deepest, l < 0 ? states + l : l);
  return deepest;
}

int64_t Config::image_tokens() const {
  const int64_t p = vision.patches_per_side();
  return p * p + (vision_feature_select_strategy == "default" ? 0 : 1);
}

Config parse_config(const json& j, const std::string& source) {
  KVB_CHECK(j.is_object(), "{}: not a JSON object", source);
  Config c;
  std::string type;
  read(j, "model_type", type, source);
  KVB_CHECK(type == "llava", "{}: field 'model_type' is '{}', expected 'llava'", source, type);
  c.text = parse_text(config_fields::sub_config(j, "text_config", source), source + " text_config");
  if (j.contains("vision_config") && !j["vision_config"].is_null()) {
    c.vision = parse_vision(config_fields::sub_config(j, "vision_config", source), source + " vision_config");
  } else {
    // LlavaConfig's own default tower: CLIP ViT-L/14 at 336 px.
    c.vision = parse_vision({{"hidden_size", 1024}, {"intermediate_size", 4096}, {"num_hidden_layers", 24},
                             {"num_attention_heads", 16}, {"image_size", 336}, {"patch_size", 14},
                             {"projection_dim", 768}},
                            source + " vision_config");
  }
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
  json text = {{"_name_or_path", "lmsys/vicuna-7b-v1.5"},
               {"architectures", {"LlamaForCausalLM"}},
               {"max_position_embeddings", t.max_position_embeddings},
               {"model_type", "llama"},
               {"rms_norm_eps", t.rms_norm_eps},
               {"torch_dtype", "float16"},
               {"vocab_size", t.vocab_size},
               {"hidden_size", t.hidden_size},
               {"intermediate_size", t.intermediate_size},
               {"num_hidden_layers", t.num_hidden_layers},
               {"num_attention_heads", t.num_attention_heads},
               {"num_key_value_heads", t.num_key_value_heads},
               {"rope_theta", t.rope_theta}};
  if (t.head_dim != t.hidden_size / t.num_attention_heads) text["head_dim"] = t.head_dim;
  json layers = c.vision_feature_layers.size() == 1 ? json(c.vision_feature_layers[0]) : json(c.vision_feature_layers);
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
          {"vision_config",
           {{"hidden_size", v.hidden_size},
            {"image_size", v.image_size},
            {"intermediate_size", v.intermediate_size},
            {"model_type", "clip_vision_model"},
            {"num_attention_heads", v.num_attention_heads},
            {"num_hidden_layers", v.num_hidden_layers},
            {"patch_size", v.patch_size},
            {"projection_dim", v.projection_dim},
            {"vocab_size", 32000}}},
          {"vision_feature_layer", layers},
          {"vision_feature_select_strategy", c.vision_feature_select_strategy},
          {"vocab_size", t.vocab_size}};
}

TextDecoderSpec text_decoder_spec(const Config& c) {
  const auto& t = c.text;
  return {t.num_hidden_layers, t.num_attention_heads, t.num_key_value_heads, t.head_dim, t.rms_norm_eps, t.rope_theta,
          false, t.tie_word_embeddings, {}};
}

}  // namespace kvb::llava
