#include "models/llava_onevision/config.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/config_fields.h"

namespace kvb::llava_onevision {
namespace {

using json = nlohmann::json;

using config_fields::read;

TextConfig parse_text(const json& t, const std::string& w) {
  TextConfig c;
  config_fields::require_model_type(t, "qwen2", w, "LLaVA-OneVision uses a qwen2 text model");
  config_fields::read_decoder_fields(t, c, w, false);
  bool sliding = false;
  read(t, "use_sliding_window", sliding, w);
  KVB_CHECK(!sliding, "{}: field 'use_sliding_window' = true is not supported", w);
  if (t.contains("eos_token_id")) {
    const auto& e = t["eos_token_id"];
    if (e.is_number_integer()) c.eos_token_ids = {e.get<int64_t>()};
    else if (!e.is_null()) read(t, "eos_token_id", c.eos_token_ids, w);
  }
  return c;
}

VisionConfig parse_vision(const json& v, const std::string& w) {
  VisionConfig c;
  config_fields::require_model_type(v, "siglip_vision_model", w, "LLaVA-OneVision uses siglip_vision_model");
  config_fields::read_vision_tower_fields(v, c, w);
  config_fields::require_value(v, "hidden_act", "gelu_pytorch_tanh", w, "gelu_pytorch_tanh (SigLIP)");
  // No divisibility check: so400m/14 at 384 px is 27 patches a side, the valid conv dropping 6 pixels.
  KVB_CHECK(c.image_size >= c.patch_size, "{}: field 'image_size' ({}) is smaller than patch_size ({})", w, c.image_size,
            c.patch_size);
  return c;
}

}  // namespace

Pinpoints default_pinpoints(int64_t tile) {
  Pinpoints p;
  for (int64_t h = 1; h <= 6; ++h)
    for (int64_t w = 1; w <= 6; ++w) p.emplace_back(h * tile, w * tile);
  return p;
}

Config parse_config(const json& j, const std::string& source) {
  config_fields::require_config_type(j, "llava_onevision", source);
  Config c;
  c.text = parse_text(config_fields::sub_config(j, "text_config", source), source + " text_config");
  // Absent: LlavaOnevisionConfig's own default tower (note: 14 heads, not so400m's 16).
  c.vision = parse_vision(config_fields::sub_config_or(j, "vision_config", source,
                                                       {{"hidden_size", 1152}, {"intermediate_size", 4304},
                                                        {"patch_size", 14}, {"image_size", 384},
                                                        {"num_hidden_layers", 26}, {"num_attention_heads", 14}}),
                          source + " vision_config");
  read(j, "image_token_index", c.image_token_index, source);
  read(j, "video_token_index", c.video_token_index, source);
  config_fields::read_projector_fields(j, c.multimodal_projector_bias, source);
  read(j, "vision_feature_select_strategy", c.vision_feature_select_strategy, source);
  KVB_CHECK(c.vision_feature_select_strategy == "default" || c.vision_feature_select_strategy == "full",
            "{}: field 'vision_feature_select_strategy' is '{}', expected 'full' (or 'default')", source,
            c.vision_feature_select_strategy);
  // transformers accepts 'default' but then drops a real patch (SigLIP has no CLS token) and
  // fails when packing the tiles; say so here rather than at the first image.
  KVB_CHECK(c.vision_feature_select_strategy == "full",
            "{}: field 'vision_feature_select_strategy' is 'default', which drops a CLS token the SigLIP tower does "
            "not have (transformers fails on it too); LLaVA-OneVision uses 'full'",
            source);
  c.vision_feature_layers = config_fields::read_feature_layers(j, c.vision_feature_layers,
                                                               c.vision.num_hidden_layers + 1, source);
  std::string aspect = "anyres_max_9";
  read(j, "vision_aspect_ratio", aspect, source);
  const std::string prefix = "anyres_max_";
  const bool digits = aspect.size() > prefix.size() && aspect.rfind(prefix, 0) == 0 &&
                      std::all_of(aspect.begin() + static_cast<long>(prefix.size()), aspect.end(), ::isdigit);
  KVB_CHECK(digits && aspect.size() < prefix.size() + 4, "{}: field 'vision_aspect_ratio' is '{}', expected 'anyres_max_<N>'",
            source, aspect);
  c.max_tiles = std::stoll(aspect.substr(prefix.size()));
  KVB_CHECK(c.max_tiles > 0, "{}: field 'vision_aspect_ratio' '{}' allows no tiles", source, aspect);
  bool newline = true;
  read(j, "use_image_newline_parameter", newline, source);
  // transformers 4.50 ignores this key and always uses image_newline.
  if (j.contains("image_grid_pinpoints") && !j["image_grid_pinpoints"].is_null()) {
    const json& p = j["image_grid_pinpoints"];
    KVB_CHECK(p.is_array() && !p.empty(), "{}: field 'image_grid_pinpoints' must be a non-empty list of [height, width]",
              source);
    for (const auto& e : p) {
      KVB_CHECK(e.is_array() && e.size() == 2 && e[0].is_number_integer() && e[1].is_number_integer() &&
                    e[0].get<int64_t>() > 0 && e[1].get<int64_t>() > 0,
                "{}: field 'image_grid_pinpoints' entry {} is not [height, width] in positive pixels", source, e.dump());
      c.image_grid_pinpoints.emplace_back(e[0].get<int64_t>(), e[1].get<int64_t>());
    }
  } else {
    c.image_grid_pinpoints = default_pinpoints();
  }
  // pack_image_features views each pinpoint as whole image_size tiles.
  for (const auto& [h, w] : c.image_grid_pinpoints)
    KVB_CHECK(h % c.vision.image_size == 0 && w % c.vision.image_size == 0,
              "{}: field 'image_grid_pinpoints' entry [{}, {}] is not a multiple of vision_config.image_size ({})", source,
              h, w, c.vision.image_size);
  for (int64_t id : {c.image_token_index, c.video_token_index})
    KVB_CHECK(id >= 0 && id < c.text.vocab_size,
              "{}: field 'image_token_index'/'video_token_index' ({}) is outside the text vocabulary ({})", source, id,
              c.text.vocab_size);
  return c;
}

json config_json(const Config& c) {
  const auto& t = c.text;
  const auto& v = c.vision;
  json text = t.size_keys();
  text.update({{"_name_or_path", "Qwen/Qwen2-7B-Instruct"},
               {"architectures", {"Qwen2ForCausalLM"}},
               {"bos_token_id", 151643},
               {"eos_token_id", 151645},
               {"model_type", "qwen2"},
               {"torch_dtype", "bfloat16"}});
  if (t.rms_norm_eps != 1e-6) text["rms_norm_eps"] = t.rms_norm_eps;
  if (t.max_position_embeddings != 32768) text["max_position_embeddings"] = t.max_position_embeddings;
  json pins = json::array();
  for (const auto& [h, w] : c.image_grid_pinpoints) pins.push_back({h, w});
  json vision = v.size_keys("siglip_vision_model");
  vision["vision_use_head"] = false;
  json out = {{"architectures", {"LlavaOnevisionForConditionalGeneration"}},
              {"ignore_index", -100},
              {"image_grid_pinpoints", pins},
              {"image_token_index", c.image_token_index},
              {"model_type", "llava_onevision"},
              {"projector_hidden_act", "gelu"},
              {"text_config", text},
              {"tie_word_embeddings", t.tie_word_embeddings},
              {"torch_dtype", "float16"},
              {"transformers_version", "4.45.0.dev0"},
              {"use_image_newline_parameter", true},
              {"video_token_index", c.video_token_index},
              {"vision_aspect_ratio", "anyres_max_" + std::to_string(c.max_tiles)},
              {"vision_config", vision},
              {"vision_feature_layer", feature_layers_json(c.vision_feature_layers)},
              {"vision_feature_select_strategy", c.vision_feature_select_strategy}};
  if (!c.multimodal_projector_bias) out["multimodal_projector_bias"] = false;
  return out;
}

TextDecoderSpec text_decoder_spec(const Config& c) { return c.text.decoder_spec(true); }

}  // namespace kvb::llava_onevision
