#pragma once
// The text decoder VLM families share (HF Qwen2Model / LlamaModel with their LM head): token
// embedding, the pre-norm decoder layers of models/decoder_layer.h, the final RMSNorm and the LM
// head, with 1-D RoPE or M-RoPE (rotary frequencies split over (t, h, w) position axes). A
// family fills a TextDecoderSpec from its config.json, reads the weights under its prefix, and
// hands the Backbone's decoder calls to one of these.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/kv_layout.h"
#include "models/decoder_layer.h"

namespace kvb {

class Tokenizer;
class WeightReader;

struct TextDecoderSpec {
  int64_t layers = 0, q_heads = 0, kv_heads = 0, head_dim = 0;
  double rms_norm_eps = 1e-6, rope_theta = 10000.0;
  bool qkv_bias = false;  // Qwen2: q/k/v projections carry a bias; LLaMA: none
  bool tie_word_embeddings = false;
  std::vector<int64_t> mrope_section;  // empty: 1-D RoPE; else rotary frequencies per axis (sum D/2)
};

struct TextDecoderWeights {
  at::Tensor embed;  // [V, H]
  at::Tensor lm_head;  // [V, H] (the embedding when tied)
  at::Tensor final_norm;
  std::vector<DecoderLayer> layers;
};

// Reads `prefix`embed_tokens.weight, `prefix`layers.{l}.*, `prefix`norm.weight and (untied)
// `lm_head` through `read`, q/k/v and gate/up fused.
TextDecoderWeights read_text_decoder(const WeightReader& read, const TextDecoderSpec& spec, const std::string& prefix,
                                     const std::string& lm_head);

class TextDecoder {
 public:
  TextDecoder() = default;
  TextDecoder(const TextDecoderSpec& spec, TextDecoderWeights weights, const at::TensorOptions& opts);

  ModelGeometry geometry() const { return {spec_.layers, spec_.q_heads, spec_.kv_heads, spec_.head_dim}; }
  int64_t position_rows() const { return spec_.mrope_section.empty() ? 1 : static_cast<int64_t>(spec_.mrope_section.size()); }

  at::Tensor embed(const at::Tensor& ids) const;  // [n] -> [n, H]
  // next + [0, n) on every position row: [R, n].
  at::Tensor continue_positions(int64_t next, int64_t n) const;
  at::Tensor rope(const at::Tensor& positions) const;  // [R, n] -> [2, n, D] (cos, sin)
  void project_qkv(int64_t layer, const at::Tensor& hidden, const at::Tensor& rope, at::Tensor& q, at::Tensor& k,
                   at::Tensor& v) const;
  at::Tensor finish_layer(int64_t layer, const at::Tensor& hidden, const at::Tensor& attn) const;
  at::Tensor final_norm(const at::Tensor& hidden) const;
  at::Tensor lm_head(const at::Tensor& normed) const;  // [n, V] float32

 private:
  TextDecoderSpec spec_;
  DecoderShape shape_{};
  TextDecoderWeights w_;
  at::TensorOptions opts_;
  at::Tensor inv_freq_, axis_of_;
};

// The eos ids a checkpoint's generation_config.json adds (none when the file is absent).
std::vector<int64_t> generation_config_eos(const std::string& dir);

// Tokens to text, special tokens skipped; ids of padded embedding rows beyond the tokenizer
// decode to nothing, as in HF.
std::string decode_known_ids(const Tokenizer& tok, const std::vector<int64_t>& ids);

}  // namespace kvb
