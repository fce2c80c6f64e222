// Issue 6's contract "decode after a rho = 1 compression gives exactly Full's tokens", end to end
// through the engine on every registered model family's tiny checkpoint, for every registered
// method (test-only methods, named test_*, excepted). The prompt holds an image so modality-aware methods get
// image spans, and every method's Needs (window queries, prefill attention, all-query
// summaries) are computed by the engine as in a real run.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "compress/method.h"
#include "core/registry.h"
#include "engine/engine.h"
#include "models/model.h"
#include "tests/unit/qwen_test_support.h"

namespace {

using Registry = kvb::Registry<kvb::CompressionMethod>;

std::vector<std::string> product_methods() {
  std::vector<std::string> out;
  for (const auto& n : Registry::instance().names())
    if (n.rfind("test_", 0) != 0) out.push_back(n);
  return out;
}

std::vector<kvb::Message> image_question() {
  kvb::MediaRef img{"", kvb::test::bmp_bytes(61, 89, 5), "synthetic 61x89"};
  return {{"system", {kvb::text_segment("You are a careful assistant.")}},
          {"user", {kvb::text_segment("Look:"), kvb::image_segment(img), kvb::text_segment("What colour dominates?")}}};
}

// One tiny checkpoint per family (make-tiny-model's default geometry), loaded once.
kvb::Model& tiny_model(const std::string& family) {
  static std::map<std::string, std::unique_ptr<kvb::Model>> models;
  auto& m = models[family];
  if (!m) {
    const auto dir = kvb::test::scratch_dir() / ("contract_" + family);
    kvb::Registry<kvb::ModelFamily>::instance().create(family, nlohmann::json::object())->make_tiny(dir.string(), 7, {});
    m = kvb::load_model(dir.string(), {{"prefill_chunk", 16}});
  }
  return *m;
}

kvb::GenerationResult generate(const std::string& family, const std::string& method) {
  auto m = Registry::instance().create(method, nlohmann::json::object());
  kvb::GenerationOptions opt;
  opt.max_new_tokens = 8;
  opt.ratio = 1.0;
  opt.return_first_logprobs = true;
  return tiny_model(family).generate(image_question(), opt, *m);
}

const kvb::GenerationResult& full_result(const std::string& family) {
  static std::map<std::string, kvb::GenerationResult> r;
  if (!r.count(family)) r[family] = generate(family, "full");
  return r.at(family);
}

using Case = std::pair<std::string, std::string>;  // family, method

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const auto& f : kvb::Registry<kvb::ModelFamily>::instance().names())
    for (const auto& m : product_methods()) out.emplace_back(f, m);
  return out;
}

class MethodGenerateIdentity : public ::testing::TestWithParam<Case> {};

TEST_P(MethodGenerateIdentity, RatioOneDecodesFullsTokens) {
  const auto& [family, method] = GetParam();
  const auto& full = full_result(family);
  ASSERT_GT(full.media_tokens, 0) << "the prompt must hold image tokens";
  ASSERT_FALSE(full.ids.empty());
  const auto r = generate(family, method);
  EXPECT_EQ(r.prompt_tokens, full.prompt_tokens);
  EXPECT_EQ(r.kept_tokens, full.kept_tokens) << "rho = 1 must keep every token";
  EXPECT_EQ(r.ids, full.ids) << "generated ids differ from Full's";
  // The cache is bit-identical, so the first step over it must be too.
  ASSERT_EQ(r.first_token_logprobs.size(), full.first_token_logprobs.size());
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < r.first_token_logprobs.size(); ++i)
    if (r.first_token_logprobs[i] != full.first_token_logprobs[i] && differ++ == 0) first = i;
  EXPECT_EQ(differ, 0u) << "first-step log-probs differ at " << differ << " entries, first at token " << first
                        << ": " << r.first_token_logprobs[first] << " vs " << full.first_token_logprobs[first];
}

INSTANTIATE_TEST_SUITE_P(AllFamiliesAndMethods, MethodGenerateIdentity, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.first + "_" + info.param.second; });

}  // namespace
