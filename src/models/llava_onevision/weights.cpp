#include "models/llava_onevision/weights.h"

#include <fmt/format.h>

#include <map>

#include "core/error.h"
#include "core/safetensors.h"
#include "models/weight_reader.h"

namespace kvb::llava_onevision {

std::vector<TensorSpec> tensor_specs(const Config& c) {
  using I = TensorSpec::Init;
  const auto& t = c.text;
  const auto& v = c.vision;
  const int64_t H = t.hidden_size;
  std::vector<TensorSpec> s;
  auto vec = [&](const std::string& n, int64_t size, I init) { s.push_back({n, {size}, init, 1}); };

  append_text_decoder_specs(s, text_decoder_spec(c), t.hidden_size, t.intermediate_size, t.vocab_size,
                            "language_model.model.", "language_model.lm_head.weight");

  const int64_t E = v.hidden_size, P = v.patch_size, N = c.tile_tokens();
  const std::string vm = "vision_tower.vision_model.";
  s.push_back({vm + "embeddings.patch_embedding.weight", {E, v.num_channels, P, P}, I::Linear, v.num_channels * P * P});
  vec(vm + "embeddings.patch_embedding.bias", E, I::Bias);
  s.push_back({vm + "embeddings.position_embedding.weight", {N, E}, I::Embedding, 1});
  llava::append_encoder_and_projector_specs(s, vm, v.num_hidden_layers, E, v.intermediate_size,
                                            {"k_proj", "v_proj", "q_proj"}, H,
                                            E * static_cast<int64_t>(c.vision_feature_layers.size()),
                                            c.multimodal_projector_bias);
  // Random init as HF's: N(0, 1/hidden), the Linear scale with fan_in = hidden.
  s.push_back({"image_newline", {H}, I::Linear, H});
  return s;
}

Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts) {
  const SafeTensors st = SafeTensors::open(dir);
  const int64_t used = c.vision_layers_used();
  std::map<std::string, std::string> in_file = llava::locate_tensors(st, tensor_specs(c), used);
  const WeightReader rd(st, opts, std::move(in_file));
  auto t = [&](const std::string& name) { return rd({name}); };
  Weights w;
  w.text = read_text_decoder(rd, text_decoder_spec(c), "language_model.model.", "language_model.lm_head.weight");
  const std::string vm = "vision_tower.vision_model.";
  w.tower.patch_w = t(vm + "embeddings.patch_embedding.weight");
  w.tower.patch_b = t(vm + "embeddings.patch_embedding.bias");
  w.tower.position_embedding = t(vm + "embeddings.position_embedding.weight");
  for (int64_t l = 0; l < used; ++l) w.tower.layers.push_back(llava::read_encoder_layer(rd, vm, l));
  w.proj1_w = t("multi_modal_projector.linear_1.weight");
  w.proj2_w = t("multi_modal_projector.linear_2.weight");
  if (c.multimodal_projector_bias) {
    w.proj1_b = t("multi_modal_projector.linear_1.bias");
    w.proj2_b = t("multi_modal_projector.linear_2.bias");
  }
  w.image_newline = t("image_newline");
  return w;
}

}  // namespace kvb::llava_onevision
