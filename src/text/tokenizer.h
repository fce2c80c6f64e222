#pragma once
// A Hugging Face tokenizer.json (BPE models: byte-level as in Qwen2/Qwen2.5-VL, byte-fallback as
// in LLaMA/Vicuna/Mistral), matching transformers.js / tokenizers ids exactly. Every stage is
// read from the file: added tokens, normalizer, pre-tokenizer (the Split regex runs on PCRE2),
// BPE merges, post-processor and decoder. A tokenizer_config.json beside the file supplies
// clean_up_tokenization_spaces and, for LLaMA tokenizer classes, add_bos_token/add_eos_token.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kvb {

class Tokenizer {  // cheap to copy (shared impl); safe to use from several threads
 public:
  // tokenizer.json, or a folder holding one.
  static Tokenizer from_file(const std::string& path_or_dir);
  // From parsed JSON; `config` is tokenizer_config.json or null; `name` labels errors.
  static Tokenizer from_json(const nlohmann::json& tokenizer, const nlohmann::json& config, const std::string& name);

  // Text (UTF-8; invalid UTF-8 is an error) to ids. add_special_tokens applies the
  // post-processor (e.g. LLaMA's leading <s>); special tokens written in the text are always
  // recognised, as in transformers.
  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens = false) const;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;

  int64_t token_to_id(const std::string& token) const;  // error if absent
  std::optional<int64_t> find_token(const std::string& token) const;
  std::string id_to_token(int64_t id) const;  // the vocabulary string (byte-level form); error if absent
  bool is_special(int64_t id) const;           // an added token flagged special
  // One past the largest id (vocabulary and added tokens), like len(tokenizer) in transformers.
  int64_t vocab_size() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace kvb
