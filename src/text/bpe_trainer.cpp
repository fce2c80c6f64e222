#include "text/bpe_trainer.h"

#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/bpe.h"
#include "text/pretokenizer.h"

namespace kvb::text {

int64_t learn_bpe_merges(nlohmann::json& tokenizer, const std::vector<std::string>& corpus, int64_t merges,
                         int64_t first_id) {
  const auto pre = make_pre_tokenizer(tokenizer.at("pre_tokenizer"), "learn_bpe_merges: pre_tokenizer");
  std::map<std::vector<std::string>, int64_t> words;  // a piece as symbols -> its count
  for (const std::string& text : corpus) {
    Pieces p;
    p.views.push_back(text);
    pre->apply(p, 0);
    KVB_CHECK(p.byte_level, "learn_bpe_merges: the tokenizer must be byte-level (a ByteLevel pre-tokenizer)");
    for (const std::string_view piece : p.views) {
      std::vector<std::string> symbols;
      for (const char c : piece) symbols.push_back(byte_to_unicode()[static_cast<unsigned char>(c)]);
      ++words[symbols];
    }
  }
  nlohmann::json& model = tokenizer.at("model");
  nlohmann::json& vocab = model.at("vocab");
  int64_t learnt = 0;
  for (; learnt < merges; ++learnt) {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& [symbols, count] : words)
      for (size_t i = 0; i + 1 < symbols.size(); ++i) pairs[{symbols[i], symbols[i + 1]}] += count;
    auto best = pairs.end();
    for (auto it = pairs.begin(); it != pairs.end(); ++it)
      if (best == pairs.end() || it->second > best->second) best = it;  // map order breaks ties
    if (best == pairs.end() || best->second < 2) break;
    const auto [a, b] = best->first;
    const std::string merged = a + b;
    model.at("merges").push_back(a + " " + b);
    KVB_CHECK(!vocab.contains(merged), "learn_bpe_merges: token {} is already in the vocabulary", merged);
    vocab[merged] = first_id + learnt;
    std::map<std::vector<std::string>, int64_t> next;
    for (const auto& [symbols, count] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == a && symbols[i + 1] == b) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(symbols[i]);
        }
      }
      next[out] += count;
    }
    words.swap(next);
  }
  return learnt;
}

}  // namespace kvb::text
