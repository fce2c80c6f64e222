// The one compression step (compress/plan.h) behind generation and `kvbench compress`: for the
// same K/V both paths give the same budgets and plans, a layer budget beyond T is clamped to T
// on both, and what dump-kv writes is what compress reads.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "compress/kv_dump.h"
#include "compress/offline.h"
#include "compress/plan.h"
#include "core/registry.h"
#include "tests/unit/qwen_test_support.h"

namespace {

// SnapKV, except that layer 1 asks for T + 5 tokens (as a method moving budget between layers
// may near rho = 1); records the budget and plan of every compress() call.
class Recording : public kvb::CompressionMethod {
 public:
  Recording()
      : inner_(kvb::Registry<kvb::CompressionMethod>::instance().create("snapkv", nlohmann::json{{"window", 4}})) {}
  kvb::Needs needs() const override { return inner_->needs(); }
  std::vector<int64_t> layer_budgets(const std::vector<kvb::LayerKV>& layers, const kvb::PrefillInfo& info,
                                     int64_t uniform) const override {
    auto b = inner_->layer_budgets(layers, info, uniform);
    b.at(1) = info.tokens + 5;
    return b;
  }
  kvb::KeepPlan compress(const kvb::LayerKV& layer, const kvb::PrefillInfo& info, int64_t budget) override {
    budgets.push_back(budget);
    plans.push_back(inner_->compress(layer, info, budget));
    return plans.back();
  }
  nlohmann::json params() const override { return inner_->params(); }

  std::vector<int64_t> budgets;
  std::vector<kvb::KeepPlan> plans;

 private:
  std::unique_ptr<kvb::CompressionMethod> inner_;
};

const std::vector<kvb::Message> kPrompt = {
    {"user", {kvb::text_segment("one two three four five six seven eight nine ten eleven twelve")}}};

std::string dump_path(const char* name) {
  std::filesystem::create_directories(kvb::test::scratch_dir());
  return (kvb::test::scratch_dir() / name).string();
}

TEST(CompressionStep, GenerationAndCompressGiveTheSamePlans) {
  auto& model = kvb::test::tiny_qwen_model(16);
  ASSERT_GE(model.geometry().layers, 2);
  const double ratio = 0.4;

  Recording gen;
  kvb::GenerationOptions opt;
  opt.max_new_tokens = 1;
  opt.ratio = ratio;
  const kvb::GenerationResult r = model.generate(kPrompt, opt, gen);

  // `kvbench dump-kv` then `kvbench compress`, through the same library calls.
  Recording off;
  const kvb::PrefillCapture cap = model.capture_prefill(kPrompt, off.needs());
  const int64_t T = cap.info.tokens;
  const std::string path = dump_path("step.safetensors");
  kvb::write_kv_file(path, cap.info, cap.layers, cap.input_ids, {});
  kvb::OfflinePrefill p = kvb::read_kv_file(path);
  kvb::prepare_needs(p, off, "recording", path);
  const kvb::CompressionOutcome out = kvb::compression_step(off, p.layers, p.info, ratio, "recording");

  EXPECT_EQ(out.budgets.at(1), T);  // clamped on both paths, not rejected by one of them
  EXPECT_EQ(r.layer_budgets, out.budgets);
  EXPECT_EQ(gen.budgets, off.budgets);
  ASSERT_EQ(gen.plans.size(), off.plans.size());
  for (size_t l = 0; l < gen.plans.size(); ++l) {
    EXPECT_TRUE(gen.plans[l].keep.equal(off.plans[l].keep)) << "layer " << l;
    EXPECT_TRUE(out.plans[l].keep.equal(off.plans[l].keep)) << "layer " << l;
  }
  EXPECT_EQ(r.kept_tokens, [&] {
    int64_t n = 0;
    for (auto b : out.budgets) n += b * model.geometry().kv_heads;
    return n;
  }());
}

TEST(CompressionStep, DumpRoundTrip) {
  auto& model = kvb::test::tiny_qwen_model(16);
  kvb::Needs needs;
  needs.window_queries = 3;
  needs.prefill_attention = true;
  const kvb::PrefillCapture cap = model.capture_prefill(kPrompt, needs);
  const std::string path = dump_path("roundtrip.safetensors");
  kvb::write_kv_file(path, cap.info, cap.layers, cap.input_ids, {{"model", "tiny"}});
  const kvb::OfflinePrefill p = kvb::read_kv_file(path);
  EXPECT_EQ(p.info.tokens, cap.info.tokens);
  EXPECT_TRUE(p.input_ids.equal(cap.input_ids));
  ASSERT_EQ(p.layers.size(), cap.layers.size());
  for (size_t l = 0; l < p.layers.size(); ++l) {
    EXPECT_TRUE(p.layers[l].keys.equal(cap.layers[l].keys.to(at::kFloat))) << l;
    EXPECT_TRUE(p.queries[l].equal(cap.layers[l].window_queries.to(at::kFloat))) << l;
    EXPECT_TRUE(p.layers[l].attention_mass.equal(cap.layers[l].attention_mass.to(at::kFloat))) << l;
  }
}

}  // namespace
