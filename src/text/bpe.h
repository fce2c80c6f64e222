#pragma once
// tokenizer.json "model" of type BPE: merge ranks applied with a heap over a linked list of
// symbols, per-word cache, byte-level symbols (GPT-2 byte->unicode table) or code-point
// symbols with <0xNN> byte fallback (SentencePiece-style LLaMA/Mistral files).
#include <nlohmann/json_fwd.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kvb::text {

// GPT-2's reversible byte <-> printable-character table, as UTF-8 strings.
const std::array<std::string, 256>& byte_to_unicode();

class Bpe {
 public:
  Bpe(const nlohmann::json& model, const std::string& where);

  // Appends the ids of one pre-tokenized piece. `byte_level`: the piece is raw bytes to be
  // mapped through byte_to_unicode() (ByteLevel pre-tokenizer); else its code points are the
  // initial symbols.
  void encode(std::string_view piece, bool byte_level, std::vector<int64_t>& out) const;

  std::optional<int64_t> find(const std::string& token) const;
  const std::vector<std::string>& tokens() const { return id_to_token_; }  // "" for holes

 private:
  struct Merge {
    int32_t rank;
    int32_t merged;
  };
  void merge_word(std::vector<int32_t>& syms) const;
  void finish_word(std::string_view piece, bool byte_level, std::vector<int32_t>& ids) const;
  const Merge* find_merge(int32_t a, int32_t b) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  // Open addressing table keyed by (left id, right id).
  std::vector<uint64_t> merge_keys_;
  std::vector<Merge> merge_vals_;
  uint64_t merge_mask_ = 0;
  std::unordered_map<uint32_t, int32_t> char_ids_;  // code point -> id of single-char tokens
  std::array<int32_t, 256> byte_level_ids_{};       // byte -> id of its byte_to_unicode token
  std::array<int32_t, 256> fallback_ids_{};         // byte -> id of <0xNN>, or -1
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  int32_t unk_id_ = -1;
  uint64_t serial_;  // identifies this model's entries in the per-thread word cache
  static std::atomic<uint64_t> next_serial_;
};

}  // namespace kvb::text
