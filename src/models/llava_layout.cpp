#include "models/llava_layout.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cinttypes>
#include <cstdio>

#include "core/error.h"

namespace kvb::llava_layout {

std::string new_style_name(const std::string& name) {
  auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  if (starts("language_model.model.")) return "model.language_model." + name.substr(21);
  if (starts("language_model.lm_head.")) return name.substr(15);
  return "model." + name;  // vision_tower.*, multi_modal_projector.*, image_newline
}

std::map<std::string, std::string> locate_tensors(const SafeTensors& st, const std::vector<TensorSpec>& specs,
                                                  int64_t vision_layers_used) {
  std::map<std::string, std::string> in_file;  // published name -> name in this checkpoint
  for (const auto& spec : specs) {
    const std::string alt = new_style_name(spec.name);
    const std::string found = st.has(spec.name) ? spec.name : st.has(alt) ? alt : "";
    KVB_CHECK(!found.empty(), "{}: tensor '{}' (or '{}') is missing (expected shape [{}] from config.json)", st.path(),
              spec.name, alt, fmt::join(spec.shape, ", "));
    const auto& info = st.info(found);
    KVB_CHECK(info.shape == spec.shape, "{}: tensor '{}' has shape [{}], expected [{}] from config.json",
              st.file_of(found), found, fmt::join(info.shape, ", "), fmt::join(spec.shape, ", "));
    // Vision layers past the deepest selected hidden state never run: checked, not loaded.
    int64_t layer = -1;
    if (std::sscanf(spec.name.c_str(), "vision_tower.vision_model.encoder.layers.%" SCNd64 ".", &layer) == 1 &&
        layer >= vision_layers_used)
      continue;
    if (spec.name.find("post_layernorm") != std::string::npos) continue;
    in_file[spec.name] = found;
  }
  return in_file;
}

void append_language_model_specs(std::vector<TensorSpec>& s, const DecoderConfig& t, const TextDecoderSpec& spec) {
  append_text_decoder_specs(s, spec, t.hidden_size, t.intermediate_size, t.vocab_size, kText, kLmHead);
}

TextDecoderWeights read_language_model(const Checkpoint& ck, const TextDecoderSpec& spec) {
  return read_text_decoder(ck.reader(), spec, kText, kLmHead);
}

void append_projector_specs(std::vector<TensorSpec>& s, int64_t H, int64_t F, bool bias) {
  using I = TensorSpec::Init;
  s.push_back({"multi_modal_projector.linear_1.weight", {H, F}, I::Linear, F});
  if (bias) s.push_back({"multi_modal_projector.linear_1.bias", {H}, I::Bias, 1});
  s.push_back({"multi_modal_projector.linear_2.weight", {H, H}, I::Linear, H});
  if (bias) s.push_back({"multi_modal_projector.linear_2.bias", {H}, I::Bias, 1});
}

Projector read_projector(const Checkpoint& ck, bool bias) {
  Projector p;
  p.w1 = ck("multi_modal_projector.linear_1.weight");
  p.w2 = ck("multi_modal_projector.linear_2.weight");
  if (bias) {
    p.b1 = ck("multi_modal_projector.linear_1.bias");
    p.b2 = ck("multi_modal_projector.linear_2.bias");
  }
  return p;
}

}  // namespace kvb::llava_layout
