#include "models/qwen2_5_vl/config.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/error.h"

namespace kvb::qwen {
namespace {

// The JSON kind a field of type T must have: nlohmann's get<int64_t>() would truncate 2.5.
template <class T>
bool has_kind(const nlohmann::json& v) {
  if constexpr (std::is_same_v<T, bool>) return v.is_boolean();
  else if constexpr (std::is_integral_v<T>) return v.is_number_integer();
  else if constexpr (std::is_floating_point_v<T>) return v.is_number();
  else if constexpr (std::is_same_v<T, std::string>) return v.is_string();
  else return v.is_array() && std::all_of(v.begin(), v.end(), [](const auto& e) { return has_kind<typename T::value_type>(e); });
}

template <class T>
const char* kind_name() {
  if constexpr (std::is_same_v<T, bool>) return "a boolean";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else if constexpr (std::is_integral_v<typename T::value_type>) return "a list of integers";
  else return "a list";
}

template <class T>
void read(const nlohmann::json& obj, const char* key, T& out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return;  // transformers' default applies
  KVB_CHECK(has_kind<T>(*it), "{}: field '{}' must be {}, got {}", where, key, kind_name<T>(), it->dump());
  out = it->get<T>();
}

void check_positive(int64_t v, const char* key, const std::string& where) {
  KVB_CHECK(v > 0, "{}: field '{}' must be positive, got {}", where, key, v);
}

}  // namespace

Config parse_config(const nlohmann::json& j, const std::string& source) {
  KVB_CHECK(j.is_object(), "{}: not a JSON object", source);
  Config c;
  // Newer transformers nest the text keys in text_config; the published files are flat.
  const bool nested = j.contains("text_config") && j["text_config"].is_object();
  const nlohmann::json& t = nested ? j["text_config"] : j;
  const std::string tw = nested ? source + " text_config" : source;
  auto& tc = c.text;
  read(t, "vocab_size", tc.vocab_size, tw);
  read(t, "hidden_size", tc.hidden_size, tw);
  read(t, "intermediate_size", tc.intermediate_size, tw);
  read(t, "num_hidden_layers", tc.num_hidden_layers, tw);
  read(t, "num_attention_heads", tc.num_attention_heads, tw);
  read(t, "num_key_value_heads", tc.num_key_value_heads, tw);
  read(t, "rms_norm_eps", tc.rms_norm_eps, tw);
  read(t, "rope_theta", tc.rope_theta, tw);
  read(t, "hidden_act", tc.hidden_act, tw);
  read(j, "tie_word_embeddings", tc.tie_word_embeddings, source);
  if (nested) read(t, "tie_word_embeddings", tc.tie_word_embeddings, tw);
  // rope_scaling (published files, transformers 4.x) or rope_parameters (transformers 5).
  const nlohmann::json* rs = nullptr;
  for (const auto* obj : {&t, &j})
    for (const char* key : {"rope_scaling", "rope_parameters"})
      if (!rs && obj->contains(key) && (*obj)[key].is_object()) rs = &(*obj)[key];
  KVB_CHECK(rs && rs->contains("mrope_section"),
            "{}: field 'rope_scaling.mrope_section' is missing (Qwen2.5-VL needs M-RoPE)", source);
  read(*rs, "rope_theta", tc.rope_theta, source + " rope_parameters");
  read(*rs, "mrope_section", tc.mrope_section, source + " rope_scaling");
  std::string rope_type = "default";
  read(*rs, "type", rope_type, source + " rope_scaling");
  read(*rs, "rope_type", rope_type, source + " rope_scaling");
  KVB_CHECK(rope_type == "mrope" || rope_type == "default",
            "{}: rope_scaling type '{}' is not supported (only mrope/default)", source, rope_type);

  for (auto [k, v] : {std::pair{"vocab_size", tc.vocab_size}, {"hidden_size", tc.hidden_size},
                      {"intermediate_size", tc.intermediate_size}, {"num_hidden_layers", tc.num_hidden_layers},
                      {"num_attention_heads", tc.num_attention_heads},
                      {"num_key_value_heads", tc.num_key_value_heads}})
    check_positive(v, k, tw);
  KVB_CHECK(tc.hidden_size % tc.num_attention_heads == 0,
            "{}: hidden_size {} is not divisible by num_attention_heads {}", tw, tc.hidden_size,
            tc.num_attention_heads);
  KVB_CHECK(tc.num_attention_heads % tc.num_key_value_heads == 0,
            "{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", tw,
            tc.num_attention_heads, tc.num_key_value_heads);
  KVB_CHECK(tc.head_dim() % 2 == 0, "{}: head dim {} must be even for RoPE", tw, tc.head_dim());
  int64_t msum = 0;
  for (auto s : tc.mrope_section) msum += s;
  KVB_CHECK(tc.mrope_section.size() == 3 && msum * 2 == tc.head_dim(),
            "{}: rope_scaling.mrope_section must be 3 numbers summing to head_dim/2 = {}", source,
            tc.head_dim() / 2);
  KVB_CHECK(tc.hidden_act == "silu", "{}: hidden_act '{}' not supported (silu)", tw, tc.hidden_act);
  // Zero or negative values run without complaint and turn every logit into NaN.
  KVB_CHECK(tc.rms_norm_eps > 0 && std::isfinite(tc.rms_norm_eps), "{}: field 'rms_norm_eps' must be positive, got {}",
            tw, tc.rms_norm_eps);
  KVB_CHECK(tc.rope_theta > 0 && std::isfinite(tc.rope_theta), "{}: field 'rope_theta' must be positive, got {}", tw,
            tc.rope_theta);

  KVB_CHECK(j.contains("vision_config") && j["vision_config"].is_object(), "{}: field 'vision_config' is missing",
            source);
  const auto& v = j["vision_config"];
  const std::string vw = source + " vision_config";
  auto& vc = c.vision;
  read(v, "depth", vc.depth, vw);
  read(v, "hidden_size", vc.hidden_size, vw);
  read(v, "intermediate_size", vc.intermediate_size, vw);
  read(v, "num_heads", vc.num_heads, vw);
  read(v, "in_chans", vc.in_channels, vw);
  read(v, "in_channels", vc.in_channels, vw);
  read(v, "out_hidden_size", vc.out_hidden_size, vw);
  read(v, "patch_size", vc.patch_size, vw);
  read(v, "spatial_merge_size", vc.spatial_merge_size, vw);
  read(v, "temporal_patch_size", vc.temporal_patch_size, vw);
  read(v, "window_size", vc.window_size, vw);
  read(v, "fullatt_block_indexes", vc.fullatt_block_indexes, vw);
  read(v, "tokens_per_second", vc.tokens_per_second, vw);
  read(v, "hidden_act", vc.hidden_act, vw);
  for (auto [k, x] : {std::pair{"depth", vc.depth}, {"hidden_size", vc.hidden_size}, {"num_heads", vc.num_heads},
                      {"patch_size", vc.patch_size}, {"spatial_merge_size", vc.spatial_merge_size},
                      {"temporal_patch_size", vc.temporal_patch_size}, {"window_size", vc.window_size}})
    check_positive(x, k, vw);
  KVB_CHECK(vc.hidden_size % vc.num_heads == 0 && vc.head_dim() % 4 == 0,
            "{}: hidden_size/num_heads must be a multiple of 4 (2-D rotary)", vw);
  KVB_CHECK(vc.window_size % (vc.spatial_merge_size * vc.patch_size) == 0,
            "{}: window_size {} must be a multiple of spatial_merge_size*patch_size", vw, vc.window_size);
  KVB_CHECK(vc.out_hidden_size == tc.hidden_size, "{}: out_hidden_size {} differs from the text hidden_size {}",
            vw, vc.out_hidden_size, tc.hidden_size);
  KVB_CHECK(vc.hidden_act == "silu", "{}: hidden_act '{}' not supported (silu)", vw, vc.hidden_act);

  read(j, "image_token_id", c.image_token_id, source);
  read(j, "video_token_id", c.video_token_id, source);
  read(j, "vision_start_token_id", c.vision_start_token_id, source);
  read(j, "vision_end_token_id", c.vision_end_token_id, source);
  read(j, "bos_token_id", c.bos_token_id, source);
  read(j, "vision_token_id", c.vision_token_id, source);
  read(j, "torch_dtype", c.torch_dtype, source);
  if (j.contains("eos_token_id")) {
    const auto& e = j["eos_token_id"];
    if (e.is_number_integer()) c.eos_token_ids = {e.get<int64_t>()};
    else read(j, "eos_token_id", c.eos_token_ids, source);
  }
  return c;
}

nlohmann::json config_json(const Config& c) {
  const auto& t = c.text;
  const auto& v = c.vision;
  return {
      {"architectures", {"Qwen2_5_VLForConditionalGeneration"}},
      {"attention_dropout", 0.0},
      {"bos_token_id", c.bos_token_id},
      {"eos_token_id", c.eos_token_ids.size() == 1 ? nlohmann::json(c.eos_token_ids[0]) : nlohmann::json(c.eos_token_ids)},
      {"vision_start_token_id", c.vision_start_token_id},
      {"vision_end_token_id", c.vision_end_token_id},
      {"vision_token_id", c.vision_token_id},
      {"image_token_id", c.image_token_id},
      {"video_token_id", c.video_token_id},
      {"hidden_act", t.hidden_act},
      {"hidden_size", t.hidden_size},
      {"initializer_range", 0.02},
      {"intermediate_size", t.intermediate_size},
      {"max_position_embeddings", 128000},
      {"max_window_layers", t.num_hidden_layers},
      {"model_type", "qwen2_5_vl"},
      {"num_attention_heads", t.num_attention_heads},
      {"num_hidden_layers", t.num_hidden_layers},
      {"num_key_value_heads", t.num_key_value_heads},
      {"rms_norm_eps", t.rms_norm_eps},
      {"rope_theta", t.rope_theta},
      {"sliding_window", 32768},
      {"tie_word_embeddings", t.tie_word_embeddings},
      {"torch_dtype", c.torch_dtype},
      {"transformers_version", "4.41.2"},
      {"use_cache", true},
      {"use_sliding_window", false},
      {"vision_config",
       {{"depth", v.depth},
        {"hidden_act", v.hidden_act},
        {"hidden_size", v.hidden_size},
        {"intermediate_size", v.intermediate_size},
        {"num_heads", v.num_heads},
        {"in_chans", v.in_channels},
        {"out_hidden_size", v.out_hidden_size},
        {"patch_size", v.patch_size},
        {"spatial_merge_size", v.spatial_merge_size},
        {"spatial_patch_size", v.patch_size},
        {"window_size", v.window_size},
        {"fullatt_block_indexes", v.fullatt_block_indexes},
        {"tokens_per_second", v.tokens_per_second},
        {"temporal_patch_size", v.temporal_patch_size}}},
      {"rope_scaling", {{"type", "mrope"}, {"mrope_section", t.mrope_section}}},
      {"vocab_size", t.vocab_size},
  };
}

TextDecoderSpec text_decoder_spec(const Config& c) {
  const auto& t = c.text;
  return {t.num_hidden_layers, t.num_attention_heads, t.num_key_value_heads, t.head_dim(), t.rms_norm_eps, t.rope_theta,
          true, t.tie_word_embeddings, t.mrope_section};
}

}  // namespace kvb::qwen
