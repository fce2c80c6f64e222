#pragma once
// The part of a Backbone every family has in common: the tokenizer, the stop ids and the
// shared text decoder answer the engine's text and decoder calls. A family derives from it and
// adds its own prompt preparation (processor, vision encoder, chat template).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/model.h"
#include "models/text_decoder.h"
#include "text/tokenizer.h"

namespace kvb {

class DecoderBackbone : public Backbone {
 public:
  DecoderBackbone(const at::TensorOptions& opts, Tokenizer tok) : opts_(opts), tok_(std::move(tok)) {}

  ModelGeometry geometry() const override { return dec_.geometry(); }
  at::TensorOptions options() const override { return opts_; }
  std::vector<int64_t> encode_text(const std::string& text) const override { return tok_.encode(text, false); }
  std::string decode(const std::vector<int64_t>& ids) const override { return decode_known_ids(tok_, ids); }
  std::vector<int64_t> stop_ids() const override { return stops_; }

  at::Tensor embed(const at::Tensor& ids) const override { return dec_.embed(ids); }
  at::Tensor continue_positions(int64_t next, int64_t n) const override { return dec_.continue_positions(next, n); }
  at::Tensor rope(const at::Tensor& positions) const override { return dec_.rope(positions); }
  void project_qkv(int64_t layer, const at::Tensor& hidden, const at::Tensor& rope, at::Tensor& q, at::Tensor& k,
                   at::Tensor& v) const override {
    dec_.project_qkv(layer, hidden, rope, q, k, v);
  }
  at::Tensor finish_layer(int64_t layer, const at::Tensor& hidden, const at::Tensor& attn) const override {
    return dec_.finish_layer(layer, hidden, attn);
  }
  at::Tensor final_norm(const at::Tensor& hidden) const override { return dec_.final_norm(hidden); }
  at::Tensor lm_head(const at::Tensor& normed) const override { return dec_.lm_head(normed); }

 protected:
  // stops_ = `config_eos` (config.json's), then generation_config.json's eos ids.
  void read_stop_ids(const std::string& dir, std::vector<int64_t> config_eos) {
    stops_ = std::move(config_eos);
    for (auto e : generation_config_eos(dir)) stops_.push_back(e);
  }
  // A token id past the embedding rows would fail only when a prompt happens to contain it.
  void check_vocab(const std::string& dir, int64_t vocab_size) const {
    KVB_CHECK(tok_.vocab_size() <= vocab_size, "{}/tokenizer.json: token ids reach {}, but config.json's vocab_size is {}",
              dir, tok_.vocab_size() - 1, vocab_size);
  }

  at::TensorOptions opts_;
  Tokenizer tok_;
  TextDecoder dec_;             // set by the family's constructor
  std::vector<int64_t> stops_;  // likewise
};

}  // namespace kvb
