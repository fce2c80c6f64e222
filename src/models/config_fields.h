#pragma once
// Reading transformers config.json fields the way the config classes do: a key that is absent or
// null keeps the class default; a present one must have the right JSON type (an integer field
// refuses 2.5 rather than truncating it). Errors name `where` (file and sub-config) and the key.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"

namespace kvb::config_fields {

template <class T>
void read(const nlohmann::json& obj, const char* key, T& out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return;  // transformers' default applies
  const bool ok = std::is_integral_v<T> && !std::is_same_v<T, bool> ? it->is_number_integer() : true;
  try {
    if (ok) out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    KVB_FAIL("{}: field '{}' has the wrong type ({})", where, key, it->dump());
  }
  KVB_CHECK(ok, "{}: field '{}' has the wrong type ({})", where, key, it->dump());
}

inline void check_positive(const std::string& where, std::initializer_list<std::pair<const char*, int64_t>> fields) {
  for (const auto& [k, v] : fields) KVB_CHECK(v > 0, "{}: field '{}' must be positive, got {}", where, k, v);
}

// A config.json's top level: an object whose model_type is `expected`.
inline void require_config_type(const nlohmann::json& j, const std::string& expected, const std::string& source) {
  KVB_CHECK(j.is_object(), "{}: not a JSON object", source);
  std::string type;
  read(j, "model_type", type, source);
  KVB_CHECK(type == expected, "{}: field 'model_type' is '{}', expected '{}'", source, type, expected);
}

// A string field that has one supported value, `only`: absent means `only`; another value is an
// error naming `what` (e.g. "quick_gelu (CLIP)").
inline void require_value(const nlohmann::json& obj, const char* key, const std::string& only, const std::string& w,
                          const std::string& what) {
  std::string v = only;
  read(obj, key, v, w);
  KVB_CHECK(v == only, "{}: field '{}' is '{}'; only {} is supported", w, key, v, what);
}

// A sub-config's model_type: absent means `expected`; another is an error ending with `family_uses`.
inline void require_model_type(const nlohmann::json& obj, const std::string& expected, const std::string& w,
                               const std::string& family_uses) {
  std::string type = expected;
  read(obj, "model_type", type, w);
  KVB_CHECK(type == expected, "{}: model_type '{}' is not supported ({})", w, type, family_uses);
}

// The decoder fields LlamaConfig and Qwen2Config share, read into `c` (a key absent keeps c's
// default) and checked: the sizes, head_dim (hidden_size / num_attention_heads unless given),
// max_position_embeddings, rms_norm_eps, rope_theta, tie_word_embeddings; hidden_act must be silu
// and rope_scaling plain RoPE. `kv_heads_follow_heads`: LlamaConfig's num_key_value_heads = None
// means num_attention_heads.
template <class TextConfig>
void read_decoder_fields(const nlohmann::json& t, TextConfig& c, const std::string& w, bool kv_heads_follow_heads) {
  read(t, "vocab_size", c.vocab_size, w);
  read(t, "hidden_size", c.hidden_size, w);
  read(t, "intermediate_size", c.intermediate_size, w);
  read(t, "num_hidden_layers", c.num_hidden_layers, w);
  read(t, "num_attention_heads", c.num_attention_heads, w);
  if (kv_heads_follow_heads) c.num_key_value_heads = c.num_attention_heads;
  read(t, "num_key_value_heads", c.num_key_value_heads, w);
  check_positive(w, {{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                     {"intermediate_size", c.intermediate_size}, {"num_hidden_layers", c.num_hidden_layers},
                     {"num_attention_heads", c.num_attention_heads}, {"num_key_value_heads", c.num_key_value_heads}});
  c.head_dim = c.hidden_size / c.num_attention_heads;
  read(t, "head_dim", c.head_dim, w);
  read(t, "max_position_embeddings", c.max_position_embeddings, w);
  read(t, "rms_norm_eps", c.rms_norm_eps, w);
  read(t, "rope_theta", c.rope_theta, w);
  read(t, "tie_word_embeddings", c.tie_word_embeddings, w);
  require_value(t, "hidden_act", "silu", w, "silu");
  if (t.contains("rope_scaling") && !t["rope_scaling"].is_null()) {
    std::string rt = "default";
    const nlohmann::json& rs = t["rope_scaling"];
    KVB_CHECK(rs.is_object(), "{}: field 'rope_scaling' must be an object or null", w);
    read(rs, "type", rt, w + " rope_scaling");
    read(rs, "rope_type", rt, w + " rope_scaling");
    KVB_CHECK(rt == "default", "{}: field 'rope_scaling' type '{}' is not supported (only plain RoPE)", w, rt);
  }
  check_positive(w, {{"head_dim", c.head_dim}});
  KVB_CHECK(c.num_attention_heads % c.num_key_value_heads == 0,
            "{}: field 'num_attention_heads' ({}) is not a multiple of num_key_value_heads ({})", w,
            c.num_attention_heads, c.num_key_value_heads);
  KVB_CHECK(c.head_dim % 2 == 0, "{}: field 'head_dim' ({}) must be even for RoPE", w, c.head_dim);
  KVB_CHECK(c.rms_norm_eps > 0 && std::isfinite(c.rms_norm_eps), "{}: field 'rms_norm_eps' must be positive", w);
  KVB_CHECK(c.rope_theta > 0 && std::isfinite(c.rope_theta), "{}: field 'rope_theta' must be positive", w);
}

// The vision tower fields CLIPVisionConfig and SiglipVisionConfig share, read into `c` and
// checked (sizes positive, hidden_size divisible by the heads). hidden_act is the caller's.
template <class VisionConfig>
void read_vision_tower_fields(const nlohmann::json& v, VisionConfig& c, const std::string& w) {
  read(v, "hidden_size", c.hidden_size, w);
  read(v, "intermediate_size", c.intermediate_size, w);
  read(v, "num_hidden_layers", c.num_hidden_layers, w);
  read(v, "num_attention_heads", c.num_attention_heads, w);
  read(v, "num_channels", c.num_channels, w);
  read(v, "image_size", c.image_size, w);
  read(v, "patch_size", c.patch_size, w);
  read(v, "layer_norm_eps", c.layer_norm_eps, w);
  check_positive(w, {{"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
                     {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
                     {"num_channels", c.num_channels}, {"image_size", c.image_size}, {"patch_size", c.patch_size}});
  KVB_CHECK(c.hidden_size % c.num_attention_heads == 0,
            "{}: field 'hidden_size' ({}) is not divisible by num_attention_heads ({})", w, c.hidden_size,
            c.num_attention_heads);
}

// j[key] when present and not null (it must be an object), else an empty object.
inline const nlohmann::json& sub_config(const nlohmann::json& j, const char* key, const std::string& source) {
  static const nlohmann::json empty = nlohmann::json::object();
  if (!j.contains(key) || j[key].is_null()) return empty;
  KVB_CHECK(j[key].is_object(), "{}: field '{}' must be an object", source, key);
  return j[key];
}

// j[key] when present and not null, else `absent` (the config class's own default sub-config).
inline nlohmann::json sub_config_or(const nlohmann::json& j, const char* key, const std::string& source,
                                    nlohmann::json absent) {
  if (!j.contains(key) || j[key].is_null()) return absent;
  return sub_config(j, key, source);
}

// The LLaVA projector keys: multimodal_projector_bias into `bias`; projector_hidden_act must be gelu.
inline void read_projector_fields(const nlohmann::json& j, bool& bias, const std::string& source) {
  read(j, "multimodal_projector_bias", bias, source);
  require_value(j, "projector_hidden_act", "gelu", source, "gelu");
}

// vision_feature_layer (an index or a list; absent keeps `layers`), each checked against the
// `states` hidden states of the vision tower (negative counts from the end).
inline std::vector<int64_t> read_feature_layers(const nlohmann::json& j, std::vector<int64_t> layers, int64_t states,
                                                const std::string& source) {
  if (j.contains("vision_feature_layer") && !j["vision_feature_layer"].is_null()) {
    const nlohmann::json& f = j["vision_feature_layer"];
    if (f.is_number_integer()) layers = {f.get<int64_t>()};
    else read(j, "vision_feature_layer", layers, source);
  }
  KVB_CHECK(!layers.empty(), "{}: field 'vision_feature_layer' is an empty list", source);
  for (int64_t l : layers)
    KVB_CHECK(l >= -states && l < states,
              "{}: field 'vision_feature_layer' = {} is outside the {} hidden states of the vision tower", source, l,
              states);
  return layers;
}

}  // namespace kvb::config_fields
