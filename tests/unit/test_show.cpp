// `kvbench show`: the recorded prompt and one sample's fields for Full and a cell side by side;
// a wrong cell or id names what exists.
#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/show.h"
#include "unit/error_text.h"

using nlohmann::json;

namespace {

kvb::Experiment experiment() {
  return kvb::parse_experiment(json::parse(R"({
    "name": "s", "rho": [0.2], "models": [{"name": "m", "path": "/x"}],
    "benchmarks": [{"name": "test_mean", "id": "a"}],
    "methods": [{"name": "full"}, {"name": "test_topk"}]})"),
                               "s.json", {{"models", "/m"}, {"data", "/d"}, {"results", "/r"}});
}

std::vector<json> records(const kvb::ModelSpec&, const kvb::Cell& c, const kvb::BenchmarkSpec&) {
  const bool full = c.is_full();
  std::vector<json> out;
  out.push_back(json{{"id", "s0"}, {"group", "g"}, {"prompt", "[user] x"}, {"prediction", "no"}, {"score", 0}});
  out.push_back(json{{"id", "s1"}, {"group", "g1"}, {"prompt", "[user] <image: cat.png> Which | animal?"},
                     {"prediction", full ? "cat" : "dog\nwolf"}, {"answer", "cat"}, {"score", full ? 1 : 0},
                     {"prefill_ms", full ? 12.5 : 13.0}, {"compress_ms", full ? 0.0 : 1.25}});
  return out;
}

TEST(Show, PromptAndFullNextToTheCell) {
  const auto exp = experiment();
  const std::string out = kvb::show_sample(exp, records, "test_topk-rho0.2", "s1", "");
  EXPECT_EQ(out,
            "## a / s1 (model m, group g1)\n\n"
            "```\n[user] <image: cat.png> Which | animal?\n```\n\n"
            "| | full | test_topk-rho0.2 |\n|---|---|---|\n"
            "| prediction | cat | dog\\nwolf |\n"
            "| answer | cat | cat |\n"
            "| score | 1 | 0 |\n"
            "| prefill_ms | 12.5 | 13 |\n"
            "| compress_ms | 0 | 1.25 |\n");
}

TEST(Show, ErrorsNameWhatExists) {
  const auto exp = experiment();
  EXPECT_EQ(kvb::test::error_text([&] { kvb::show_sample(exp, records, "snapkv", "s1", ""); }),
            "s.json: no cell 'snapkv'; cells: full, test_topk-rho0.2");
  EXPECT_EQ(kvb::test::error_text([&] { kvb::show_sample(exp, records, "full", "s9", ""); }),
            "s.json: no record with id 's9' in cell 'full' of model 'm' (results under /r)");
  EXPECT_EQ(kvb::test::error_text([&] { kvb::show_sample(exp, records, "full", "s1", "big"); }),
            "s.json: no model 'big'; models: m");
}

TEST(Show, PromptTextPlacesMedia) {
  std::vector<kvb::Message> m = {{"system", {kvb::text_segment("Be brief.")}},
                                 {"user", {kvb::image_segment({"/d/a.jpg", "", ""}), kvb::text_segment("What?"),
                                           kvb::video_segment({"", "bytes", "row 3"})}}};
  EXPECT_EQ(kvb::prompt_text(m), "[system] Be brief.\n[user] <image: /d/a.jpg> What? <video: row 3>");
}

}  // namespace
