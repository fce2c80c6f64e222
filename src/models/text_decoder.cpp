#include "models/text_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "models/ops.h"
#include "models/weight_reader.h"
#include "text/tokenizer.h"

namespace kvb {

TextDecoderWeights read_text_decoder(const WeightReader& read, const TextDecoderSpec& spec, const std::string& prefix,
                                     const std::string& lm_head) {
  TextDecoderWeights w;
  w.embed = read({prefix + "embed_tokens.weight"});
  w.lm_head = spec.tie_word_embeddings ? w.embed : read({lm_head});
  w.final_norm = read({prefix + "norm.weight"});
  for (int64_t l = 0; l < spec.layers; ++l) {
    auto n = [&](const std::string& s) { return fmt::format("{}layers.{}.{}", prefix, l, s); };
    DecoderLayer d;
    d.qkv_w = read({n("self_attn.q_proj.weight"), n("self_attn.k_proj.weight"), n("self_attn.v_proj.weight")});
    if (spec.qkv_bias)
      d.qkv_b = read({n("self_attn.q_proj.bias"), n("self_attn.k_proj.bias"), n("self_attn.v_proj.bias")});
    d.o_w = read({n("self_attn.o_proj.weight")});
    d.gate_up_w = read({n("mlp.gate_proj.weight"), n("mlp.up_proj.weight")});
    d.down_w = read({n("mlp.down_proj.weight")});
    d.input_norm = read({n("input_layernorm.weight")});
    d.post_norm = read({n("post_attention_layernorm.weight")});
    w.layers.push_back(std::move(d));
  }
  return w;
}

TextDecoder::TextDecoder(const TextDecoderSpec& spec, TextDecoderWeights weights, const at::TensorOptions& opts)
    : spec_(spec), shape_{spec.q_heads, spec.kv_heads, spec.head_dim, spec.rms_norm_eps}, w_(std::move(weights)), opts_(opts) {
  const int64_t D = spec_.head_dim;
  // transformers: 1 / base ** (arange(0, D, 2).float() / D), in float32.
  inv_freq_ = 1.0 / at::pow(spec_.rope_theta, at::arange(0, D, 2, at::kLong).to(at::kFloat) / static_cast<double>(D));
  if (spec_.mrope_section.empty()) return;
  // Which position axis (t, h, w) drives each rotary frequency: mrope_section splits them.
  std::vector<int64_t> axis;
  for (size_t a = 0; a < spec_.mrope_section.size(); ++a)
    for (int64_t i = 0; i < spec_.mrope_section[a]; ++i) axis.push_back(static_cast<int64_t>(a));
  KVB_CHECK(static_cast<int64_t>(axis.size()) * 2 == D, "mrope_section sums to {}, expected head_dim/2 = {}", axis.size(),
            D / 2);
  axis_of_ = at::tensor(axis, at::kLong);
}

at::Tensor TextDecoder::embed(const at::Tensor& ids) const { return at::embedding(w_.embed, ids); }

at::Tensor TextDecoder::continue_positions(int64_t next, int64_t n) const {
  return at::arange(next, next + n, at::kLong).unsqueeze(0).expand({position_rows(), n}).contiguous();
}

at::Tensor TextDecoder::rope(const at::Tensor& positions) const {
  // freqs[n, j] = position (on axis(j) with M-RoPE) * inv_freq[j], in float32 like transformers.
  const at::Tensor pos = axis_of_.defined() ? positions.to(at::kFloat).index_select(0, axis_of_).t()  // [n, D/2]
                                            : positions[0].to(at::kFloat).unsqueeze(1);            // [n, 1]
  const at::Tensor freqs = pos * inv_freq_.unsqueeze(0);
  const at::Tensor emb = at::cat({freqs, freqs}, -1);
  return at::stack({emb.cos(), emb.sin()}).to(opts_);  // [2, n, D]
}

void TextDecoder::project_qkv(int64_t layer, const at::Tensor& hidden, const at::Tensor& rope, at::Tensor& q,
                              at::Tensor& k, at::Tensor& v) const {
  decoder_project_qkv(w_.layers[layer], shape_, hidden, rope, q, k, v);
}

at::Tensor TextDecoder::finish_layer(int64_t layer, const at::Tensor& hidden, const at::Tensor& attn) const {
  return decoder_finish(w_.layers[layer], shape_, hidden, attn);
}

at::Tensor TextDecoder::final_norm(const at::Tensor& hidden) const {
  return rms_norm(hidden, w_.final_norm, spec_.rms_norm_eps);
}

at::Tensor TextDecoder::lm_head(const at::Tensor& normed) const { return at::linear(normed, w_.lm_head).to(at::kFloat); }

std::vector<int64_t> generation_config_eos(const std::string& dir) {
  const std::string gen = dir + "/generation_config.json";
  if (!std::filesystem::exists(gen)) return {};
  const auto g = read_json_file(gen);
  if (!g.is_object() || !g.contains("eos_token_id")) return {};
  const auto& e = g["eos_token_id"];
  const bool ids = e.is_number_integer() ||
                   (e.is_array() && std::all_of(e.begin(), e.end(), [](const auto& x) { return x.is_number_integer(); }));
  KVB_CHECK(ids, "{}: field 'eos_token_id' must be an integer or a list of integers, got {}", gen, e.dump());
  if (e.is_number_integer()) return {e.get<int64_t>()};
  std::vector<int64_t> out;
  for (const auto& x : e) out.push_back(x.get<int64_t>());
  return out;
}

std::string decode_known_ids(const Tokenizer& tok, const std::vector<int64_t>& ids) {
  std::vector<int64_t> known;
  for (auto id : ids)
    if (id >= 0 && id < tok.vocab_size()) known.push_back(id);
  return tok.decode(known, true);
}

}  // namespace kvb
