#pragma once
// The text half of a Backbone that LLaVA-1.5 and LLaVA-OneVision share: a Hugging Face tokenizer,
// stop ids from config.json and generation_config.json, token embeddings, the shared decoder
// layer (models/decoder_layer.h) with 1-D rotate-half RoPE, the final RMSNorm and lm_head. A
// family derives from it, fills `dec_` after loading its weights, and adds prepare() and the rest.
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "engine/ops.h"
#include "models/decoder_layer.h"
#include "models/model.h"
#include "text/tokenizer.h"

namespace kvb {

struct TextDecoder {
  at::Tensor embed, lm_head, final_norm;  // lm_head is the embedding when tied
  std::vector<DecoderLayer> layers;
  DecoderShape shape{};
  at::Tensor inv_freq;  // [D/2] float32
};

class TextDecoderBackbone : public Backbone {
 public:
  TextDecoderBackbone(const std::string& dir, const at::TensorOptions& opts) : opts_(opts), tok_(Tokenizer::from_file(dir)) {}

  at::TensorOptions options() const override { return opts_; }
  ModelGeometry geometry() const override {
    return {static_cast<int64_t>(dec_.layers.size()), dec_.shape.q_heads, dec_.shape.kv_heads, dec_.shape.head_dim};
  }
  std::vector<int64_t> encode_text(const std::string& text) const override { return tok_.encode(text, false); }
  std::string decode(const std::vector<int64_t>& ids) const override {
    // Ids of the padded embedding rows beyond the tokenizer decode to nothing, as in HF.
    std::vector<int64_t> known;
    for (auto id : ids)
      if (id >= 0 && id < tok_.vocab_size()) known.push_back(id);
    return tok_.decode(known, true);
  }
  std::vector<int64_t> stop_ids() const override { return stops_; }

  at::Tensor embed(const at::Tensor& ids) const override { return at::embedding(dec_.embed, ids); }
  at::Tensor continue_positions(int64_t next, int64_t n) const override {
    return at::arange(next, next + n, at::kLong).unsqueeze(0);
  }
  at::Tensor rope(const at::Tensor& positions) const override {
    const at::Tensor freqs = positions[0].to(at::kFloat).unsqueeze(1) * dec_.inv_freq.unsqueeze(0);  // [n, D/2]
    const at::Tensor emb = at::cat({freqs, freqs}, -1);
    return at::stack({emb.cos(), emb.sin()}).to(opts_);  // [2, n, D]
  }
  void project_qkv(int64_t layer, const at::Tensor& hidden, const at::Tensor& rope, at::Tensor& q, at::Tensor& k,
                   at::Tensor& v) const override {
    decoder_project_qkv(dec_.layers[layer], dec_.shape, hidden, rope, q, k, v);
  }
  at::Tensor finish_layer(int64_t layer, const at::Tensor& hidden, const at::Tensor& attn) const override {
    return decoder_finish(dec_.layers[layer], dec_.shape, hidden, attn);
  }
  at::Tensor final_norm(const at::Tensor& hidden) const override {
    return rms_norm(hidden, dec_.final_norm, dec_.shape.rms_norm_eps);
  }
  at::Tensor lm_head(const at::Tensor& normed) const override { return at::linear(normed, dec_.lm_head).to(at::kFloat); }

 protected:
  // transformers: 1 / base ** (arange(0, D, 2).float() / D), in float32.
  static at::Tensor rope_inv_freq(double theta, int64_t head_dim) {
    return 1.0 / at::pow(theta, at::arange(0, head_dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(head_dim));
  }
  // A token id past the embedding rows would fail only when a prompt happens to contain it.
  void check_vocab(const std::string& dir, int64_t vocab_size) const {
    KVB_CHECK(tok_.vocab_size() <= vocab_size, "{}/tokenizer.json: token ids reach {}, but config.json's vocab_size is {}",
              dir, tok_.vocab_size() - 1, vocab_size);
  }
  // `config_eos` then generation_config.json's eos_token_id (an id or a list), as generate() stops.
  void read_stop_ids(const std::string& dir, std::vector<int64_t> config_eos) {
    stops_ = std::move(config_eos);
    const std::string gen = dir + "/generation_config.json";
    if (!std::filesystem::exists(gen)) return;
    const auto g = read_json_file(gen);
    if (!g.contains("eos_token_id") || g["eos_token_id"].is_null()) return;
    const auto& e = g["eos_token_id"];
    const bool ids = e.is_number_integer() ||
                     (e.is_array() && std::all_of(e.begin(), e.end(), [](const auto& x) { return x.is_number_integer(); }));
    KVB_CHECK(ids, "{}: field 'eos_token_id' must be an integer or a list of integers, got {}", gen, e.dump());
    if (e.is_number_integer()) stops_.push_back(e.get<int64_t>());
    else
      for (const auto& x : e) stops_.push_back(x.get<int64_t>());
  }

  at::TensorOptions opts_;
  Tokenizer tok_;
  TextDecoder dec_;
  std::vector<int64_t> stops_;
};

}  // namespace kvb
